// A tiny TTT-NN set-up on real components for the generation tests: a tiny
// GPT-2 (the bundled GPT-2 tokenizer) and a tiny RoBERTa embedder saved as
// checkpoint directories, a FAISS index of a small training file, and a
// `tttnn serve` fleet of two slices on 127.0.0.1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../../src/engine/index.js';
import { FleetRetriever } from '../../src/eval/retriever.js';
import { buildIndex } from '../../src/index/index.js';
import { Gpt2LMHeadModel, RobertaModel, saveModel, type CausalLM } from '../../src/models/index.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer } from '../../src/tokenizers/index.js';
import { startFleetProcess, type FleetProcess } from './fleet.js';

const TOPICS = ['The lighthouse keeper counted ships in the fog every night', 'def parse(tokens): return [t.strip() for t in tokens if t]', 'Solve 3*x + 7 = 22 for x. The answer is 5', 'The licence grants permission to copy and modify the software'];
/** The training documents: four topics, each once in full, then variants. */
export const DOCS = [...TOPICS.map((t, i) => `${t}. ${t.split(' ').reverse().join(' ')} ${i}.`), ...Array.from({ length: 20 }, (_, i) => `${TOPICS[i % 4]} variant ${i} with more words ${i * 7}`)];

export interface TinyTtt {
  dir: string;
  modelDir: string;
  embedderDir: string;
  tokenFile: string;
  addresses: string;
  fleet: FleetProcess;
  encoder: RobertaModel;
  /** A fresh copy of the tiny GPT (the weights saved in modelDir). */
  tinyGpt(): CausalLM;
  retriever(): Promise<FleetRetriever>;
  stop(): Promise<void>;
}

function tinyGpt(): CausalLM {
  manualSeed(21);
  return Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
}

export async function startTinyTtt(name: string): Promise<TinyTtt> {
  const dir = mkdtempSync(join(tmpdir(), `tttnn-${name}-`));
  const trainData = join(dir, 'train.jsonl');
  writeFileSync(trainData, DOCS.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Github' } })).join('\n') + '\n');
  const modelDir = join(dir, 'gpt');
  const embedderDir = join(dir, 'enc');
  const tokenFile = join(dir, 'token');
  const addresses = join(dir, 'addresses');
  manualSeed(4);
  const encoder = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 66 }, false);
  saveModel(encoder, embedderDir);
  saveTokenizer(robertaTokenizerFromGpt2(), embedderDir);
  await buildIndex({ data: trainData, embedder: { model: encoder, tokenizer: robertaTokenizerFromGpt2() }, embedderDir, out: dir, progress: () => undefined });
  writeNewToken(tokenFile);
  const fleet = await startFleetProcess({ data: trainData, index: join(dir, 'train.jsonl.index'), slices: 2, replicas: 1, addresses, tokenFile });
  const model = tinyGpt();
  saveModel(model, modelDir);
  saveTokenizer(gpt2Tokenizer(), modelDir);
  model.dispose();
  return {
    dir, modelDir, embedderDir, tokenFile, addresses, fleet, encoder, tinyGpt,
    retriever: async () => new FleetRetriever(await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) }), { model: encoder, tokenizer: robertaTokenizerFromGpt2() }),
    stop: async () => {
      await fleet.stop();
      encoder.dispose();
    },
  };
}
