// Byte-level BPE tokenizers (GPT-2, GPT-Neo, RoBERTa) from local files, and training new ones.
export { BpeTokenizer, type EncodeOptions, type BatchEncoding } from './bpe-tokenizer.js';
export { TextStream } from './text-stream.js';
export { ChatTemplate, type ChatMessage } from './chat-template.js';
export { loadTokenizer, gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer, fromVocabAndMerges } from './load.js';
export {
  trainByteLevelBpe,
  trainTokenizers,
  BYTE_TO_UNICODE,
  type TrainBpeOptions,
  type TrainedBpe,
  type TrainTokenizersOptions,
  type TrainedTokenizers,
} from './train-bpe.js';
