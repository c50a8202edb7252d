// Benchmark: generation on a GPT-2-small-shaped model (12 layers, d 768,
// 50257 tokens, random weights: nothing downloaded) — greedy tokens per
// second with and without the key/value cache, ours and transformers'
// generate(use_cache=True/False) in PyTorch 2.x in the same run; then the
// time to first token with test-time training on k = 1, 5 and 20 neighbours
// (generateWithTtt with before: false, as serve-lm runs it: training on k
// neighbour texts, then the first token). Retrieval is not in it (the
// neighbours are given; bench:retrieval measures the fleet).
//
//   npm run bench:generate     (BENCH_PROMPT=32 prompt tokens, BENCH_NEW=32 new tokens,
//                               BENCH_NEIGHBOR_TOKENS=128 tokens per neighbour, BENCH_KS=1,5,20,
//                               BENCH_TRAINABLE=full|lora)
import { spawnSync } from 'node:child_process';
import { uptime, loadavg } from 'node:os';
import { manualSeed } from '../src/engine/index.js';
import type { Retriever } from '../src/eval/retriever.js';
import { resolveSettings } from '../src/eval/settings.js';
import { generateWithTtt } from '../src/eval/ttt-generate.js';
import { createModel, generate, type CausalLM } from '../src/models/index.js';
import { gpt2Tokenizer } from '../src/tokenizers/index.js';
import { TORCH2_PYTHON, formatTable, printEngineHeader } from './helpers.js';

const PROMPT = Number(process.env['BENCH_PROMPT'] ?? 32);
const NEW = Number(process.env['BENCH_NEW'] ?? 32);
const NEIGHBOR_TOKENS = Number(process.env['BENCH_NEIGHBOR_TOKENS'] ?? 128);
const KS = (process.env['BENCH_KS'] ?? '1,5,20').split(',').map(Number);
const TRAINABLE = (process.env['BENCH_TRAINABLE'] ?? 'full') as 'full' | 'lora';
const CONFIG = { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 };

const REFERENCE = `
import json, sys, time, torch
from transformers import GPT2Config, GPT2LMHeadModel
d = json.load(sys.stdin)
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(**{k: v for k, v in d['config'].items() if k != 'model_type'})).eval()
ids = torch.tensor([d['prompt']])
out = {}
for cache in (True, False):
    with torch.no_grad():
        model.generate(ids, max_new_tokens=2, do_sample=False, use_cache=cache, pad_token_id=0)
        start = time.perf_counter()
        model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=d['new'], min_new_tokens=d['new'], do_sample=False, use_cache=cache, pad_token_id=0)
        out['cached' if cache else 'uncached'] = d['new'] / (time.perf_counter() - start)
out['threads'] = torch.get_num_threads()
json.dump(out, sys.stdout)
`;

function tokensPerSecond(model: CausalLM, prompt: number[], cache: boolean): number {
  generate(model, prompt, { maxNewTokens: 2, cache }); // warm-up
  const start = performance.now();
  const out = generate(model, prompt, { maxNewTokens: NEW, cache });
  return (out.length - prompt.length) / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  printEngineHeader();
  console.log(`load: uptime ${Math.round(uptime())} s, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (the cores are shared: other processes' work shows in these numbers)`);
  console.log(`GPT-2-small shape (12 layers, d 768), random weights; prompt ${PROMPT} tokens, ${NEW} new tokens, greedy, fp32\n`);
  manualSeed(0);
  const model = createModel(CONFIG) as CausalLM;
  const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 7919 + 11) % 50257);
  const cached = tokensPerSecond(model, prompt, true);
  const uncached = tokensPerSecond(model, prompt, false);
  const reference = TORCH2_PYTHON === null ? null : spawnSync(TORCH2_PYTHON, ['-c', REFERENCE], { input: JSON.stringify({ config: CONFIG, prompt, new: NEW }), encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
  const ref = reference?.status === 0 ? (JSON.parse(reference.stdout) as { cached: number; uncached: number; threads: number }) : null;
  console.log(formatTable(['decoding', 'tttnn tokens/s', `transformers generate tokens/s${ref ? ` (PyTorch 2.x, ${ref.threads} threads)` : ''}`], [
    ['with the key/value cache', cached.toFixed(1), ref ? ref.cached.toFixed(1) : 'n/a'],
    ['without (the whole window every step)', uncached.toFixed(1), ref ? ref.uncached.toFixed(1) : 'n/a'],
    ['speed-up', `${(cached / uncached).toFixed(2)}x`, ref ? `${(ref.cached / ref.uncached).toFixed(2)}x` : 'n/a'],
  ]));

  // Time to first token after training on k neighbours.
  const tokenizer = gpt2Tokenizer();
  const words = 'the of and to in is that for it as with was on be by this are from at or an which have not'.split(' ');
  const text = (seed: number): string => Array.from({ length: NEIGHBOR_TOKENS }, (_, i) => words[(i * 7 + seed * 13) % words.length]).join(' ');
  const timeToFirstToken = async (k: number): Promise<string[]> => {
    const given: Retriever = {
      retrieve: () => Promise.resolve({ neighbors: Array.from({ length: k }, (_, i) => ({ id: i, distance: 0, text: text(i), vector: new Float32Array() })), query: new Float32Array(), partial: false, seconds: 0 }),
      randomDocuments: () => Promise.reject(new Error('not used')),
      identity: () => ({ embedder: '', index: '' }),
    };
    const settings = resolveSettings('ttt', { modelType: 'gpt2', contextLength: 1024 }, { numNeighbors: k, trainable: TRAINABLE });
    const start = performance.now();
    let firstToken = NaN;
    const g = await generateWithTtt(model, tokenizer, given, { prompt: text(99).split(' ').slice(0, PROMPT).join(' '), maxNewTokens: 1, sampling: {}, seed: 0, settings, before: false }, {
      onToken: () => (firstToken = (performance.now() - start) / 1000),
    });
    const steps = g.trainLosses.reduce((n, l) => n + l.length, 0);
    return [String(k), String(steps), g.seconds.training.toFixed(2), (g.seconds.training / k).toFixed(3), firstToken.toFixed(2)];
  };
  await timeToFirstToken(1); // untimed: the first step's allocations (AdamW's moments, the backward's buffers) are no k's
  const rows: string[][] = [];
  for (const k of KS) rows.push(await timeToFirstToken(k));
  console.log(`\ntime to first token with TTT-NN (--trainable ${TRAINABLE}, neighbours of ~${NEIGHBOR_TOKENS} tokens, one AdamW step each; retrieval excluded)`);
  console.log(formatTable(['k', 'training steps', 'training s', 's per neighbour', 'time to first token s'], rows));
  model.dispose();
}

await main();
