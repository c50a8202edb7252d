// Tokenizers made by Hugging Face's `tokenizers` package in the reference
// venv (test/reference/hf_tokenizers.py), laid out as each model family
// ships them, with transformers' answers on probe texts.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRefVenvPython } from './ref-venv.js';

export interface Probe {
  plain: number[];
  special: number[];
  decoded: string;
}
export interface TokenizerReference {
  probes: Probe[];
  bos: number | null;
  eos: number | null;
  vocab: number;
}

/** A few kilobytes of the repository's own prose to train on. */
export function trainingTexts(): string[] {
  const text = ['../../../README.md', '../../../docs/DESIGN.md'].map((p) => readFileSync(new URL(p, import.meta.url), 'utf8')).join('\n');
  return Array.from({ length: Math.ceil(text.length / 2000) }, (_, i) => text.slice(i * 2000, (i + 1) * 2000));
}

/** Builds the tokenizer of `kind` with the reference and returns its directory and answers. */
export function referenceTokenizer(kind: string, vocabSize: number, probes: string[]): { dir: string; reference: TokenizerReference } {
  const dir = mkdtempSync(join(tmpdir(), `tttnn-tok-${kind}-`));
  const reference = runRefVenvPython<TokenizerReference>('import hf_tokenizers; hf_tokenizers.main()', { kind, texts: trainingTexts(), vocab_size: vocabSize, dir, probes });
  return { dir, reference };
}

