// BERT (Hugging Face BertModel, as sentence-transformers directories ship
// their Transformer module): RoBERTa's encoder with positions 0, 1, 2, … and
// the checkpoint prefix "bert." (roberta.ts runs both). Read as an embedder:
// the pooler and BertForMaskedLM's cls.* heads are not loaded.
import type { Architecture } from './architecture.js';
import { RobertaModel, type EncoderFlavor } from './roberta.js';

export const BERT_FLAVOR: EncoderFlavor = { modelType: 'bert', prefix: 'bert.', positions: 'from-zero' };

export const BERT_ARCHITECTURE: Architecture = {
  modelType: 'bert',
  kind: 'encoder',
  tokenizers: ['WordPiece'],
  fromWeights: (config, weights, origin, placement) => RobertaModel.fromWeights(config, weights, origin, placement, BERT_FLAVOR),
  random: (config, placement) => RobertaModel.random(config, false, placement, BERT_FLAVOR),
};
