// How an index's vectors were made — the embedder, its model_type, pooling,
// normalisation, token window and dimension — recorded in embedding.json
// beside the index (next to embedding_model.txt), shown by `index info`,
// served in the shard servers' health, and compared with the embedder that
// embeds the queries: vectors pooled or normalised another way live in
// another space, and their nearest neighbours mean nothing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonFile } from '../io/checkpoint.js';
import { writeFileDurably } from '../io/durable.js';
import { describePooling, ORIGINAL_POOLING, POOLING_MODES, type Pooling, type PoolingMode } from '../models/index.js';
import { embeddingDimension, type Embedder } from './embed.js';

export const RECIPE_FILE = 'embedding.json';

export interface EmbeddingRecipe {
  /** The embedder's directory, as --embedder gave it. */
  embedder: string;
  /** The encoder's config.json model_type. */
  modelType: string;
  pooling: Pooling;
  /** Tokens per text, special tokens included. */
  maxLength: number;
  dimension: number;
}

export function recipeOf(embedder: Embedder, embedderDir: string): EmbeddingRecipe {
  const { model } = embedder;
  return {
    embedder: embedderDir,
    modelType: model.modelType,
    pooling: embedder.pooling ?? ORIGINAL_POOLING,
    maxLength: Math.min(embedder.maxLength ?? model.contextLength, model.contextLength),
    dimension: embeddingDimension(embedder),
  };
}

/** "bert, cls pooling, normalised, 128 tokens". */
export function describeRecipe(r: EmbeddingRecipe): string {
  return `${r.modelType}, ${describePooling(r.pooling).replace(/^([^,]+)/, '$1 pooling')}, ${r.maxLength} tokens`;
}

export function writeRecipe(outDir: string, recipe: EmbeddingRecipe): void {
  writeFileDurably(join(outDir, RECIPE_FILE), `${JSON.stringify(recipe, null, 2)}\n`);
}

/** The recipe recorded beside `indexPath`, or undefined for an index built before tttnn recorded it. */
export function readRecipe(indexPath: string): EmbeddingRecipe | undefined {
  const path = join(dirname(indexPath), RECIPE_FILE);
  return existsSync(path) ? checkRecipe(readJsonFile<unknown>(path), path) : undefined;
}

/** `value` as a recipe, or an error naming `what` and the field. */
export function checkRecipe(value: unknown, what: string): EmbeddingRecipe {
  const fail = (field: string): never => {
    throw new Error(`${what}: "${field}" is missing or malformed (an embedding recipe: embedder, modelType, pooling {modes, normalize}, maxLength, dimension)`);
  };
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v['embedder'] !== 'string') fail('embedder');
  if (typeof v['modelType'] !== 'string') fail('modelType');
  const pooling = (v['pooling'] ?? {}) as Record<string, unknown>;
  const modes = pooling['modes'];
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => POOLING_MODES.includes(m as PoolingMode))) fail('pooling.modes');
  if (typeof pooling['normalize'] !== 'boolean') fail('pooling.normalize');
  for (const field of ['maxLength', 'dimension']) if (!Number.isInteger(v[field]) || (v[field] as number) < 1) fail(field);
  return value as EmbeddingRecipe;
}

/**
 * Refuses queries embedded another way than `index` was built: another
 * model_type, pooling or normalisation. The token window may differ (a
 * query truncated shorter still lands in the same space).
 */
export function checkRecipesMatch(index: EmbeddingRecipe, holder: string, query: EmbeddingRecipe): void {
  const same = index.modelType === query.modelType && index.pooling.modes.join() === query.pooling.modes.join() && index.pooling.normalize === query.pooling.normalize;
  if (!same) {
    throw new Error(
      `${holder} holds vectors made by the embedder ${index.embedder} (${describeRecipe(index)}), and queries are embedded by ${query.embedder} (${describeRecipe(query)}): ` +
        `vectors of another model, pooling or normalisation are not comparable; pass --embedder ${index.embedder}, or rebuild the index with ${query.embedder}`,
    );
  }
}
