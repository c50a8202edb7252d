// Checkpoint formats against python3-torch: torch.save files read here,
// safetensors written here parsed by an independent Python reader and vice
// versa, sharded checkpoints, and files that must be refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { arange, disposeAll, randn, tensor, tidy, manualSeed, type Tensor } from '../../src/engine/index.js';
import { loadTorchBin } from '../../src/io/torch-bin.js';
import { loadSafetensors, saveSafetensors, readSafetensorsHeader } from '../../src/io/safetensors.js';
import { readWeights, saveCheckpoint, readModelConfig } from '../../src/io/checkpoint.js';
import { runPython } from '../helpers/python.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tttnn-io-'));

// Values as Python sees them: name -> {dtype, shape, values (as float)}.
type Described = Record<string, { dtype: string; shape: number[]; values: number[] }>;

const MAKE_FIXTURE = `
import json, sys, torch
d = json.load(sys.stdin)
torch.manual_seed(0)
base = torch.randn(4, 6)
state = {
  'f32': torch.randn(3, 5),
  'f16': torch.randn(2, 3).half(),
  'bf16': torch.randn(7).bfloat16(),
  'i64': torch.arange(10).reshape(2, 5),
  'f64': torch.randn(2, 2).double(),
  'flag': torch.tensor([True, False, True]),
  'transposed': base.t(),          # non-contiguous: strides (1, 6)
  'row_view': base[2],             # shares base's storage at an offset
  'base': base,
  'nested': {'inner.weight': torch.ones(2) * 3},
  'param': torch.nn.Parameter(torch.full((2,), 0.5)),
}
torch.save(state, d['path'])
def describe(t):
  return {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'values': t.float().flatten().tolist()}
flat = {k: describe(v) for k, v in state.items() if k != 'nested'}
flat['nested.inner.weight'] = describe(state['nested']['inner.weight'])
flat['param'] = describe(state['param'].detach())
print(json.dumps(flat))
`;

const NAME_FOR: Record<string, string> = {
  float32: 'float32',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  float64: 'float64',
  bool: 'bool',
};

test('pytorch_model.bin written by torch.save loads with the same names, dtypes, shapes and values', () => {
  const dir = tmp();
  const path = join(dir, 'pytorch_model.bin');
  const expected = runPython<Described>(MAKE_FIXTURE, { path });
  const loaded = loadTorchBin(path);
  try {
    assert.deepEqual([...loaded.keys()].sort(), Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const t = loaded.get(name) as Tensor;
      assert.equal(t.dtype, NAME_FOR[want.dtype], `${name} dtype`);
      assert.deepEqual(t.shape, want.shape, `${name} shape`);
      assert.deepEqual(t.toNumbers(), want.values, `${name} values`);
    }
  } finally {
    disposeAll(loaded.values());
  }
});

test('a torch.save file that names other Python code is refused without running it', () => {
  const dir = tmp();
  const marker = join(dir, 'pwned');
  const path = join(dir, 'evil.bin');
  runPython(
    `
import json, sys, os, torch
d = json.load(sys.stdin)
class Evil:
  def __reduce__(self):
    return (os.system, ('touch ' + d['marker'],))
torch.save({'w': torch.ones(2), 'x': Evil()}, d['path'])
print('null')
`,
    { path, marker },
  );
  assert.throws(() => loadTorchBin(path), /refusing to load the Python global (posix|os)\.system/);
  assert.equal(existsSync(marker), false);
});

test('truncated and non-zip .bin files give clear errors', () => {
  const dir = tmp();
  const path = join(dir, 'pytorch_model.bin');
  runPython(`import json, sys, torch; torch.save({'w': torch.ones(1000)}, json.load(sys.stdin)['path']); print('null')`, { path });
  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length - 200));
  assert.throws(() => loadTorchBin(path), /pytorch_model\.bin/);
  writeFileSync(path, 'not a zip at all');
  assert.throws(() => loadTorchBin(path), /not a zip-format torch\.save file/);
});

const READ_SAFETENSORS_PY = `
import json, struct, sys, torch
d = json.load(sys.stdin)
raw = open(d['path'], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
assert (8 + n) % 8 == 0, 'data must start 8-byte aligned'
types = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64, 'F64': torch.float64, 'BOOL': torch.bool, 'I32': torch.int32}
out = {}
for name, info in header.items():
  if name == '__metadata__': continue
  b, e = info['data_offsets']
  t = torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + e]), dtype=types[info['dtype']]).reshape(info['shape'])
  out[name] = {'dtype': info['dtype'], 'shape': info['shape'], 'values': t.float().flatten().tolist()}
print(json.dumps({'tensors': out, 'metadata': header.get('__metadata__', {})}))
`;

test('safetensors written here are read by an independent reader, in every dtype', () => {
  const dir = tmp();
  const path = join(dir, 'model.safetensors');
  manualSeed(2);
  const tensors = tidy(
    () =>
      new Map<string, Tensor>([
        ['a.f32', randn([3, 4])],
        ['b.f16', randn([5]).to({ dtype: 'float16' })],
        ['c.bf16', randn([2, 2]).to({ dtype: 'bfloat16' })],
        ['d.i64', arange(0, 6).reshape([3, 2])],
        ['e.bool', tensor([true, false])],
        ['f.odd', randn([3])], // 12 bytes: the next tensor starts unaligned in the data section
      ]),
  );
  saveSafetensors(path, tensors, { format: 'pt' });
  const theirs = runPython<{ tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>; metadata: Record<string, string> }>(
    READ_SAFETENSORS_PY,
    { path },
  );
  assert.deepEqual(theirs.metadata, { format: 'pt' });
  for (const [name, t] of tensors) {
    const other = theirs.tensors[name]!;
    assert.deepEqual(other.shape, t.shape, name);
    assert.deepEqual(other.values, t.toNumbers(), name);
  }
  // And back: identical bytes in, identical tensors out.
  const reloaded = loadSafetensors(path);
  for (const [name, t] of tensors) {
    assert.equal(reloaded.get(name)!.dtype, t.dtype);
    assert.deepEqual(reloaded.get(name)!.toNumbers(), t.toNumbers());
  }
  disposeAll([...tensors.values(), ...reloaded.values()]);
});

test('safetensors written by Python load here', () => {
  const dir = tmp();
  const path = join(dir, 'model.safetensors');
  const expected = runPython<Described>(
    `
import json, struct, sys, torch
d = json.load(sys.stdin)
torch.manual_seed(1)
ts = {'w': torch.randn(2, 3), 'h': torch.randn(4).half(), 'b': torch.randn(3).bfloat16(), 'n': torch.arange(5)}
codes = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64'}
header, blobs, off = {}, [], 0
for k, t in ts.items():
  raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
  header[k] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
  blobs.append(raw); off += len(raw)
h = json.dumps(header).encode()
open(d['path'], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
print(json.dumps({k: {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'values': t.float().flatten().tolist()} for k, t in ts.items()}))
`,
    { path },
  );
  const loaded = loadSafetensors(path);
  for (const [name, want] of Object.entries(expected)) {
    assert.equal(loaded.get(name)!.dtype, NAME_FOR[want.dtype]);
    assert.deepEqual(loaded.get(name)!.toNumbers(), want.values, name);
  }
  disposeAll(loaded.values());
});

test('sharded checkpoints round-trip through model.safetensors.index.json', () => {
  const dir = tmp();
  manualSeed(4);
  const weights = tidy(() => new Map<string, Tensor>(Array.from({ length: 6 }, (_, i) => [`layer.${i}.weight`, randn([64, 16])])));
  saveCheckpoint(dir, { model_type: 'gpt2', n_layer: 6 }, weights, 10_000); // 4 KiB tensors, 2 per shard
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, [
    'config.json',
    'model-00001-of-00003.safetensors',
    'model-00002-of-00003.safetensors',
    'model-00003-of-00003.safetensors',
    'model.safetensors.index.json',
  ]);
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
    metadata: { total_size: number };
    weight_map: Record<string, string>;
  };
  assert.equal(index.metadata.total_size, 6 * 64 * 16 * 4);
  assert.equal(readModelConfig(dir)['n_layer'], 6);
  const back = new Map<string, Tensor>();
  readWeights(dir, (name, t) => back.set(name, t));
  assert.deepEqual([...back.keys()].sort(), [...weights.keys()].sort());
  for (const [name, t] of weights) assert.deepEqual(back.get(name)!.toNumbers(), t.toNumbers());
  disposeAll([...weights.values(), ...back.values()]);
});

test('corrupt safetensors files and missing weights are reported with the file name', () => {
  const dir = tmp();
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0x10]));
  assert.throws(() => readSafetensorsHeader(path), /model\.safetensors: not a safetensors file/);
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([prefix, header, Buffer.alloc(8)])); // 8 of 16 data bytes
  assert.throws(() => readSafetensorsHeader(path), /tensor 'w' has offsets \[0, 16\] that do not fit/);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from('{'.padEnd(header.length, 'x'))]));
  assert.throws(() => readSafetensorsHeader(path), /malformed safetensors header/);
  const empty = tmp();
  assert.throws(() => readWeights(empty, () => undefined), /no weights \(expected model\.safetensors/);
  assert.throws(() => readModelConfig(empty), /config\.json: missing/);
  writeFileSync(join(empty, 'config.json'), '{"model_type": ');
  assert.throws(() => readModelConfig(empty), /config\.json: malformed JSON/);
});
