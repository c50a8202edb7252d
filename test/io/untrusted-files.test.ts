// Checkpoint files are untrusted input (issue 17): safetensors headers that
// break the format's rules, pickles that look up prototype properties or are
// built to be slow, are refused or read in bounded time.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { unpickle } from '../../src/io/pickle.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadTorchBin } from '../../src/io/torch-bin.js';
import { ZipReader, crc32Portable } from '../../src/io/zip.js';
import { runPython } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-untrusted-'));

/** A safetensors file from a header (object or raw JSON text) and data bytes. */
function safetensorsFile(name: string, header: unknown, data: Buffer): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

test('safetensors: overlapping or holey offsets, bytes after the last tensor, a non-object header or metadata are refused', () => {
  const f32 = (begin: number): object => ({ dtype: 'F32', shape: [1], data_offsets: [begin, begin + 4] });
  const ok = safetensorsFile('ok.safetensors', { a: f32(0), b: f32(4), __metadata__: { format: 'pt' } }, Buffer.alloc(8));
  assert.deepEqual([...loadSafetensors(ok).keys()].sort(), ['a', 'b']);
  const cases: [string, unknown, number, RegExp][] = [
    ['overlap', { a: f32(0), b: f32(0) }, 4, /tensor '[ab]' overlaps the tensor before it/],
    ['hole', { a: f32(0), b: f32(8) }, 12, /4 bytes before tensor 'b' belong to no tensor/],
    ['trailing', { a: f32(0) }, 8, /4 bytes after the last tensor belong to no tensor/],
    ['array', '[1, 2]', 0, /not a JSON object/],
    ['number', '42', 0, /not a JSON object/],
    ['metadata', { a: f32(0), __metadata__: { step: 3 } }, 4, /__metadata__ is not an object of strings/],
    ['offsets', { a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 4, /data_offsets that are not two non-negative integers/],
    ['shape', { a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4, /shape that is not a list of non-negative integers/],
    ['dtype', { a: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, 4, /unsupported dtype constructor/],
  ];
  for (const [name, header, bytes, error] of cases) {
    assert.throws(() => loadSafetensors(safetensorsFile(`${name}.safetensors`, header, Buffer.alloc(bytes))), error, name);
  }
});

test('torch .bin: globals named like prototype properties (torch.constructor, torch.__proto__) are refused like any other', () => {
  for (const name of ['constructor', '__proto__', 'toString']) {
    const path = join(dir, `${name}.bin`);
    // A torch.save-layout zip whose data.pkl asks for the global torch.<name>.
    runPython(
      `
import json, sys, zipfile
d = json.load(sys.stdin)
with zipfile.ZipFile(d['path'], 'w', zipfile.ZIP_STORED) as z:
    z.writestr('archive/data.pkl', b'\\x80\\x02ctorch\\n' + d['name'].encode() + b'\\n.')
    z.writestr('archive/version', b'3\\n')
print('null')
`,
      { path, name },
    );
    assert.throws(() => loadTorchBin(path), new RegExp(`refusing to load the Python global torch\\.${name.replace(/_/g, '_')}`), name);
  }
});

test('torch .bin: an expanded tensor (stride 0, a few bytes that would copy out to 16 GiB) is refused before any allocation', () => {
  const path = join(dir, 'expanded.bin');
  runPython(`import json, sys, torch; torch.save({'w': torch.zeros(1).expand(2**32), 'ok': torch.ones(3)}, json.load(sys.stdin)['path']); print('null')`, { path });
  assert.throws(() => loadTorchBin(path), /expanded view \(4294967296 elements over a 1-element storage\); re-save it with \.contiguous\(\)\.clone\(\)/);
  // Ordinary views of a shared storage still load.
  const views = join(dir, 'views.bin');
  runPython(`import json, sys, torch; t = torch.arange(12.).reshape(3, 4); torch.save({'t': t, 'col': t[:, 1], 'tr': t.t()}, json.load(sys.stdin)['path']); print('null')`, { path: views });
  const loaded = loadTorchBin(views);
  assert.deepEqual(loaded.get('col')!.toNumbers(), [1, 5, 9]);
  assert.deepEqual(loaded.get('tr')!.shape, [4, 3]);
  for (const t of loaded.values()) t.dispose();
});

// Zip archives built by Python's zipfile, then damaged: a flipped data byte, a deflated entry
// (50 MB of zeros, 50 KB compressed) whose directory declares 1,000 bytes, and sizes or offsets
// beyond the end of the file.
const DAMAGED_ZIPS = String.raw`
import json, struct, sys, zipfile
d = json.load(sys.stdin)
def write(name, method, payload):
    path = d['dir'] + '/' + name + '.zip'
    with zipfile.ZipFile(path, 'w', method) as z:
        z.writestr('entry', payload)
    return path, bytearray(open(path, 'rb').read())
def central(raw): return raw.rfind(b'PK\x01\x02')
def eocd(raw): return raw.rfind(b'PK\x05\x06')
out = {}
path, raw = write('ok', zipfile.ZIP_DEFLATED, b'hello world ' * 100); out['ok'] = path
path, raw = write('crc', zipfile.ZIP_STORED, b'hello world ' * 100)
raw[raw.find(b'hello')] = ord('j'); open(path, 'wb').write(raw); out['crc'] = path
path, raw = write('bomb', zipfile.ZIP_DEFLATED, bytes(50_000_000))
struct.pack_into('<I', raw, central(raw) + 24, 1000); open(path, 'wb').write(raw); out['bomb'] = path
path, raw = write('size', zipfile.ZIP_STORED, b'x' * 100)
struct.pack_into('<I', raw, central(raw) + 20, 0x7ffffff0); struct.pack_into('<I', raw, central(raw) + 24, 0x7ffffff0); open(path, 'wb').write(raw); out['size'] = path
path, raw = write('directory', zipfile.ZIP_STORED, b'x' * 100)
struct.pack_into('<I', raw, eocd(raw) + 12, 0x7ffffff0); open(path, 'wb').write(raw); out['directory'] = path
print(json.dumps(out))
`;

test('zip: a bad CRC, a deflate bomb, sizes or offsets beyond the file are refused before the memory is spent', () => {
  const zips = runPython<Record<string, string>>(DAMAGED_ZIPS, { dir });
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926); // the CRC-32 check value (for Node before zlib.crc32)
  const ok = new ZipReader(zips['ok']!);
  assert.equal(ok.read('entry').toString(), 'hello world '.repeat(100));
  ok.close();
  const crc = new ZipReader(zips['crc']!);
  assert.throws(() => crc.read('entry'), /entry 'entry' fails its CRC-32 check/);
  crc.close();
  const bomb = new ZipReader(zips['bomb']!);
  assert.throws(() => bomb.read('entry'), /entry 'entry' does not inflate to its declared 1000 bytes/);
  bomb.close();
  assert.throws(() => new ZipReader(zips['size']!), /entry 'entry' declares bytes \[0, \d+\) beyond the \d+-byte file/);
  assert.throws(() => new ZipReader(zips['directory']!), /the central directory declares bytes \[\d+, \d+\) beyond the \d+-byte file/);
});

const hooks = {
  resolveGlobal: (): never => {
    throw new Error('no globals');
  },
  reduce: (): never => {
    throw new Error('no calls');
  },
  persistentLoad: (): never => {
    throw new Error('no persistent ids');
  },
};

test('pickle: a 1 MB LONG4 is read in linear time, and APPENDS of a million items does not overflow the stack', { timeout: 20_000 }, () => {
  const n = 2 ** 20;
  const long = Buffer.concat([Buffer.from([0x80, 0x02, 0x8b]), Buffer.from(new Uint32Array([n]).buffer), Buffer.alloc(n, 0x01), Buffer.from('.')]);
  assert.equal(unpickle(long, hooks), Infinity); // 0x0101…01, far beyond a double
  const small = Buffer.concat([Buffer.from([0x80, 0x02, 0x8b]), Buffer.from(new Uint32Array([2]).buffer), Buffer.from([0x00, 0xff]), Buffer.from('.')]);
  assert.equal(unpickle(small, hooks), -256); // little-endian two's complement 0xff00
  const items = 1_000_000;
  const appends = Buffer.concat([Buffer.from([0x80, 0x02, 0x5d, 0x28]), Buffer.alloc(2 * items).fill(Buffer.from([0x4b, 0x07])), Buffer.from('e.')]);
  const list = unpickle(appends, hooks) as number[];
  assert.equal(list.length, items);
  assert.equal(list[items - 1], 7);
});
