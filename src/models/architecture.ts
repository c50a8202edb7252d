// What an architecture declares so that AutoModel can load it: its
// Hugging Face model_type, whether it is a decoder or an encoder, and how to
// build it from checkpoint tensors or at random. Each architecture file
// exports one; auto.ts lists them (adding an architecture is its file and
// one line there).
import type { Tensor } from '../engine/index.js';
import type { RawConfig } from './config.js';
import type { AnyModel } from './language-model.js';
import type { PlacementOptions } from './parameter-set.js';
import type { TokenizerKind } from '../tokenizers/tokenizer-kind.js';

export interface Architecture {
  /** config.json's model_type. */
  readonly modelType: string;
  readonly kind: AnyModel['kind'];
  /** The tokenizer kinds its checkpoints ship (tokenizers/tokenizer-kind.ts); another is refused (tokenizer-pairing.ts). */
  readonly tokenizers: readonly TokenizerKind[];
  /** From checkpoint tensors, which it takes over (uses or disposes each). */
  fromWeights(config: RawConfig, weights: Iterable<[string, Tensor]>, origin: string, placement: PlacementOptions): AnyModel;
  /** Randomly initialised as Hugging Face does (seed with manualSeed first). */
  random(config: RawConfig, placement: PlacementOptions): AnyModel;
}
