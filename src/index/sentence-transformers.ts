// An embedder from a directory, as `--embedder DIR` names it: a
// sentence-transformers directory (modules.json: a Transformer module, its
// 1_Pooling and optionally 2_Normalize, read as sentence-transformers reads
// them), or a plain encoder checkpoint, embedded as the original does (mean
// pooling, no normalisation: tttlm code/text_embedding.py:67-73).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../io/checkpoint.js';
import { loadEncoder, ORIGINAL_POOLING, POOLING_MODES, type PlacementOptions, type PoolingMode } from '../models/index.js';
import { loadTokenizer } from '../tokenizers/index.js';
import type { Embedder } from './embed.js';

/** One entry of modules.json. */
interface ModuleEntry {
  path: string;
  type: string;
}

// Module types by their class name: sentence-transformers 2-5 write
// sentence_transformers.models.Pooling, 6 sentence_transformers.sentence_transformer.modules.pooling.Pooling.
const classOf = (type: string): string => type.split('.').at(-1) ?? type;

// sentence-transformers' legacy boolean keys, in its concatenation order (pooling.py _LEGACY_POOLING_MODE_KWARGS).
const LEGACY_POOLING_KEYS: readonly [string, string][] = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'],
  ['pooling_mode_weightedmean_tokens', 'weightedmean'],
  ['pooling_mode_lasttoken', 'lasttoken'],
];

/** Whether `dir` is a sentence-transformers directory. */
export function isSentenceTransformersDir(dir: string): boolean {
  return existsSync(join(dir, 'modules.json'));
}

/** The embedder `dir` describes (see the file comment); the caller disposes its model. */
export function loadEmbedder(dir: string, placement: PlacementOptions = {}): Embedder {
  if (!isSentenceTransformersDir(dir)) {
    return { model: loadEncoder(dir, placement), tokenizer: loadTokenizer(dir), pooling: ORIGINAL_POOLING, source: dir };
  }
  const modulesPath = join(dir, 'modules.json');
  const modules = readModules(modulesPath);
  const names = modules.map((m) => classOf(m.type));
  const expected = names.length === 2 ? ['Transformer', 'Pooling'] : ['Transformer', 'Pooling', 'Normalize'];
  if (names.join() !== expected.join()) {
    throw new Error(`${modulesPath}: modules ${names.join(', ')}; tttnn reads Transformer, Pooling and optionally Normalize, in that order (a Dense or other module would change the vectors)`);
  }
  const transformerDir = join(dir, modules[0]!.path);
  const settings = readSentenceBertConfig(join(transformerDir, 'sentence_bert_config.json'));
  const tokenizer = loadTokenizer(transformerDir);
  const poolingPath = join(dir, modules[1]!.path, 'config.json');
  const poolingConfig = readJsonFile(poolingPath);
  const modes = poolingModes(poolingConfig, poolingPath);
  const model = loadEncoder(transformerDir, placement);
  const dimension = poolingConfig['embedding_dimension'] ?? poolingConfig['word_embedding_dimension'];
  if (dimension !== undefined && dimension !== model.hiddenSize) {
    model.dispose();
    throw new Error(`${poolingPath}: embedding dimension ${JSON.stringify(dimension)}, but the encoder in ${transformerDir} has hidden_size ${model.hiddenSize}`);
  }
  // max_seq_length: sentence_bert_config.json's, else the tokenizer's model_max_length (sentence-transformers 6
  // stores it there), never beyond the encoder's positions (transformer.py caps it at max_position_embeddings).
  const maxLength = Math.min(settings.maxSeqLength ?? tokenizer.modelMaxLength ?? model.contextLength, model.contextLength);
  return { model, tokenizer, maxLength, lowercase: settings.doLowerCase, pooling: { modes, normalize: names.length === 3 }, emptyText: '', source: dir };
}

function readModules(path: string): ModuleEntry[] {
  const raw = readJsonFile<unknown>(path);
  if (!Array.isArray(raw)) throw new Error(`${path}: expected a JSON array of modules`);
  return raw.map((entry: unknown, i) => {
    const { path: p, type } = (entry ?? {}) as Record<string, unknown>;
    if (typeof p !== 'string' || typeof type !== 'string') throw new Error(`${path}: module ${i} needs string "path" and "type"`);
    if (p.split(/[\\/]/).includes('..')) throw new Error(`${path}: module ${i}'s path "${p}" leaves the directory`);
    return { path: p, type };
  });
}

function readSentenceBertConfig(path: string): { maxSeqLength: number | undefined; doLowerCase: boolean } {
  if (!existsSync(path)) return { maxSeqLength: undefined, doLowerCase: false };
  const config = readJsonFile(path);
  const max = config['max_seq_length'];
  if (max !== undefined && max !== null && !(Number.isInteger(max) && (max as number) > 0)) throw new Error(`${path}: "max_seq_length" must be a positive integer or null, not ${JSON.stringify(max)}`);
  const lower = config['do_lower_case'] ?? false;
  if (typeof lower !== 'boolean') throw new Error(`${path}: "do_lower_case" must be true or false`);
  return { maxSeqLength: typeof max === 'number' ? max : undefined, doLowerCase: lower };
}

/** 1_Pooling/config.json's modes: "pooling_mode" (a name or a list), or the legacy pooling_mode_* booleans. */
function poolingModes(config: Record<string, unknown>, path: string): PoolingMode[] {
  let modes: unknown[];
  if (config['pooling_mode'] !== undefined) {
    const mode = config['pooling_mode'];
    modes = Array.isArray(mode) ? mode : [mode];
  } else {
    modes = LEGACY_POOLING_KEYS.filter(([key]) => config[key] === true).map(([, mode]) => mode);
    if (modes.length === 0) modes = ['mean']; // as sentence-transformers: no mode set means mean
  }
  for (const mode of modes) {
    if (!POOLING_MODES.includes(mode as PoolingMode)) {
      throw new Error(`${path}: pooling mode ${JSON.stringify(mode)} is not supported (supported: ${POOLING_MODES.join(', ')})`);
    }
  }
  if (modes.length === 0) throw new Error(`${path}: "pooling_mode" names no mode`);
  return modes as PoolingMode[];
}
