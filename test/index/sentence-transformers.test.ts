// sentence-transformers directories as embedders (issue 30, point 3): tiny
// random BERT directories written by sentence-transformers' own save() in
// the reference venv (test/reference/st_encoders.py), in its current layout
// and in the layout of the 2-5 releases most Hub directories have. Our
// embeddings equal SentenceTransformer.encode to 1e-5 for mean, cls, max and
// concatenated pooling, with and without 2_Normalize, truncated at
// max_seq_length; an index built from one records how (index info), serves
// and answers `tttnn query`; and a query embedder pooled otherwise is
// refused by `tttnn eval`, naming both.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import { embedTexts, loadEmbedder, readRecipe } from '../../src/index/index.js';
import { Gpt2LMHeadModel, saveModel } from '../../src/models/index.js';
import { gpt2Tokenizer, saveTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { trainingTexts } from '../helpers/hf-tokenizers.js';
import { runRefVenvPython } from '../helpers/ref-venv.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;

const TEXTS = [
  'Test-time training on nearest neighbours',
  'A longer text about nearest neighbours and test-time training, longer than the twenty tokens max_seq_length allows, so it is truncated',
  'Naïve CAFÉ — 日本語 and symbols {}[]();',
  '',
  'short',
];

interface Case {
  name: string;
  pooling: string | string[];
  normalize: boolean;
  legacy?: boolean;
  do_lower_case?: boolean;
}

const CASES: Case[] = [
  { name: 'mean, normalised', pooling: 'mean', normalize: true },
  { name: 'mean', pooling: 'mean', normalize: false },
  { name: 'cls', pooling: 'cls', normalize: false },
  { name: 'cls, normalised', pooling: 'cls', normalize: true },
  { name: 'max, normalised', pooling: 'max', normalize: true },
  { name: 'max', pooling: 'max', normalize: false },
  { name: 'cls+mean+max concatenated, legacy layout (pooling_mode_* keys, sentence_bert_config.json max_seq_length)', pooling: ['cls', 'max', 'mean'], normalize: false, legacy: true },
  { name: 'mean_sqrt_len_tokens, normalised, legacy layout, do_lower_case', pooling: 'mean_sqrt_len_tokens', normalize: true, legacy: true, do_lower_case: true },
];

const CONFIG = { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 64 };

interface Reference {
  embeddings: number[][];
  tokens: number[][];
}

const root = mkdtempSync(join(tmpdir(), 'tttnn-st-'));
const dirOf = (i: number): string => join(root, `case${i}`, 'st-embedder');
let references: Reference[];

before(() => {
  const cases = CASES.map((c, i) => ({ ...c, dir: dirOf(i), seed: 1, config: CONFIG, max_seq_length: 20 }));
  references = runRefVenvPython<Reference[]>('import st_encoders; st_encoders.main()', { train_texts: trainingTexts(), vocab_size: 300, texts: TEXTS, cases }, 600_000);
});

CASES.forEach((c, i) => {
  test(`sentence-transformers BERT directory (${c.name}): embeddings equal SentenceTransformer.encode to 1e-5`, () => {
    const reference = references[i]!;
    const embedder = loadEmbedder(dirOf(i));
    try {
      assert.equal(embedder.model.modelType, 'bert');
      assert.equal(embedder.maxLength, 20, 'max_seq_length');
      assert.deepEqual(embedder.pooling, { modes: typeof c.pooling === 'string' ? [c.pooling] : c.pooling, normalize: c.normalize });
      // What the Transformer module feeds BERT: [CLS] … [SEP], truncated at max_seq_length with [SEP] kept.
      const batch = embedder.tokenizer.encodeBatch(TEXTS.map((t) => (c.do_lower_case ? t.toLowerCase() : t)), { addSpecialTokens: true, maxLength: embedder.maxLength });
      assert.deepEqual(batch.ids.map((ids, r) => ids.filter((_, j) => batch.attentionMask[r]![j] === 1)), reference.tokens);
      assert.equal(reference.tokens[1]!.length, 20, 'the long text is truncated');
      const vectors = embedTexts(embedder, TEXTS);
      assertClose([...vectors], reference.embeddings.flat(), 1e-5, c.name);
      if (c.normalize) for (let r = 0; r < TEXTS.length; r++) assert.ok(Math.abs(Math.hypot(...reference.embeddings[r]!) - 1) < 1e-5);
    } finally {
      embedder.model.dispose();
    }
  });
});

const run = (args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let fleet: FleetProcess | undefined;
after(async () => {
  await fleet?.stop();
});

test('an index built with a sentence-transformers embedder records its pooling, serves `tttnn query`, and `tttnn eval` refuses a query embedder pooled otherwise, naming both', async () => {
  const work = join(root, 'index');
  mkdirSync(work, { recursive: true });
  const data = join(work, 'docs.jsonl');
  const docs = [...TEXTS.slice(0, 3), 'Shard servers answer nearest neighbour queries over HTTP', 'The report merges ranks and bootstraps intervals'];
  writeFileSync(data, docs.map((text) => JSON.stringify({ text, meta: { pile_set_name: 'Github' } })).join('\n') + '\n');
  const built = dirOf(0); // mean, normalised
  const out = join(work, 'idx');
  run(['index', 'build', '--data', data, '--embedder', built, '--out', out]);
  const indexPath = join(out, 'docs.jsonl.index');
  const recipe = readRecipe(indexPath);
  assert.deepEqual(recipe, { embedder: built, modelType: 'bert', pooling: { modes: ['mean'], normalize: true }, maxLength: 20, dimension: 32 });
  const info = JSON.parse(run(['index', 'info', indexPath, '--json'])) as Record<string, unknown>;
  assert.deepEqual([info['embedder'], info['modelType'], info['pooling'], info['normalize'], info['maxLength'], info['ntotal']], [built, 'bert', 'mean', true, 20, docs.length]);

  const tokenFile = join(work, 'token');
  writeFileSync(tokenFile, 'f'.repeat(32), { mode: 0o600 });
  const addresses = join(work, 'addresses.txt');
  fleet = await startFleetProcess({ data, index: indexPath, slices: 1, replicas: 1, addresses, tokenFile });
  // Each document's nearest neighbour is itself, at distance 0 (the same embedding, the same pooling).
  for (const [id, text] of docs.entries()) {
    const answer = JSON.parse(run(['query', text, '--addresses', addresses, '--token-file', tokenFile, '--embedder', built, '-k', '2'])) as { neighbors: { id: number; distance: number }[] };
    assert.equal(answer.neighbors[0]!.id, id, `query ${id}`);
    assert.ok(answer.neighbors[0]!.distance < 1e-6, `distance ${answer.neighbors[0]!.distance}`);
  }

  // The cls-pooled directory under the same name (the client takes the same directory name as the same embedder).
  const clsTwin = dirOf(2);
  assert.ok(clsTwin.endsWith('/st-embedder') && built.endsWith('/st-embedder'));
  const modelDir = join(work, 'gpt');
  manualSeed(3);
  const model = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 });
  saveModel(model, modelDir);
  model.dispose();
  saveTokenizer(gpt2Tokenizer(), modelDir);
  const results = join(work, 'results');
  const refused = spawnSync(process.execPath, [CLI, 'eval', '--method', 'context', '--model', modelDir, '--data', data, '--results-dir', results, '--val-portion', '1', '--embedder', clsTwin, '--addresses', addresses, '--token-file', tokenFile], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, new RegExp(`holds vectors made by the embedder ${built} \\(bert, mean pooling, normalised, 20 tokens\\), and queries are embedded by ${clsTwin} \\(bert, cls pooling, 20 tokens\\)`));
  const queryRefused = spawnSync(process.execPath, [CLI, 'query', 'x', '--addresses', addresses, '--token-file', tokenFile, '--embedder', clsTwin], { encoding: 'utf8' });
  assert.notEqual(queryRefused.status, 0);
  assert.match(queryRefused.stderr, /vectors of another model, pooling or normalisation are not comparable/);
  assert.equal(readFileSync(join(out, 'embedding_model.txt'), 'utf8').trim(), built);
});
