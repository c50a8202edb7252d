// Benchmark: peak memory of loading a Llama-3.2-1B-shaped checkpoint (random
// weights from its config; nothing downloaded) stored as transformers writes
// it: bf16, sharded safetensors with model.safetensors.index.json.
//
//   npm run bench:load-memory     (BENCH_LOAD_DIR=<dir> measures an existing checkpoint directory)
//
// The loader converts each tensor to float32 as it is read (models/auto.ts),
// so the peak should be the float32 weights plus one tensor, not the bf16
// checkpoint beside its float32 copy. Measured in a fresh child process:
// its peak RSS (getrusage ru_maxrss) after loading, against its RSS with the
// engine loaded and no model.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { refVenvPython } from '../test/helpers/ref-venv.js';
import { LLAMA_3_2_1B } from './llama-3.2-1b.js';

const WRITE = `
import json, sys, torch
from transformers import AutoConfig, AutoModelForCausalLM
d = json.load(sys.stdin)
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(AutoConfig.for_model('llama', **d['config']), dtype=torch.bfloat16)
model.save_pretrained(d['dir'], max_shard_size='1GB')
`;

const CHILD = `
const { loadModel } = await import(${JSON.stringify(new URL('../src/models/index.js', import.meta.url).href)});
const rssBefore = process.memoryUsage().rss;
const start = performance.now();
const model = loadModel(process.argv[1]);
const seconds = (performance.now() - start) / 1000;
const parameters = model.parameters.count();
console.log(JSON.stringify({ rssBefore, peak: process.resourceUsage().maxRSS * 1024, seconds, parameters }));
`;

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

let dir = process.env['BENCH_LOAD_DIR'];
const made = dir === undefined;
if (dir === undefined) {
  dir = mkdtempSync(join(tmpdir(), 'tttnn-llama-1b-'));
  console.log(`writing a Llama-3.2-1B-shaped random checkpoint (bf16, 1 GB shards) into ${dir} with transformers`);
  const written = spawnSync(refVenvPython(), ['-c', WRITE], { input: JSON.stringify({ config: LLAMA_3_2_1B, dir }), encoding: 'utf8', stdio: ['pipe', 'inherit', 'inherit'] });
  if (written.status !== 0) throw new Error('writing the checkpoint failed');
}
try {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  const onDisk = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error('loading failed');
  const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { rssBefore: number; peak: number; seconds: number; parameters: number };
  const fp32 = r.parameters * 4;
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`);
  console.log(`checkpoint: ${files.length} safetensors file(s), ${gib(onDisk)} (bf16); ${(r.parameters / 1e9).toFixed(3)} B parameters = ${gib(fp32)} in float32`);
  console.log(`RSS with the engine loaded: ${gib(r.rssBefore)}; peak RSS after loading: ${gib(r.peak)} (load ${r.seconds.toFixed(1)} s)`);
  console.log(`peak - baseline = ${gib(r.peak - r.rssBefore)} = ${((r.peak - r.rssBefore) / fp32).toFixed(2)} x the float32 weights (two full copies would be >= 1.5 x)`);
} finally {
  if (made) rmSync(dir, { recursive: true, force: true });
}
