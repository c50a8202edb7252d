// Byte-level BPE tokenizers (GPT-2, GPT-Neo, RoBERTa) from local files.
export { BpeTokenizer, type EncodeOptions, type BatchEncoding } from './bpe-tokenizer.js';
export { loadTokenizer, gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer, fromVocabAndMerges } from './load.js';
