// Training data: documents streamed from JSONL files, tokenized into
// sequences, grouped into padded batches. The stream's position (file, line,
// sequence within the document, epoch) is saved in checkpoints, so a resumed
// run continues with exactly the next sequence.
import { tensor, type Tensor } from '../engine/index.js';
import { readDocuments } from '../data/jsonl.js';
import type { BpeTokenizer } from '../tokenizers/index.js';
import { maskTokens } from './masking.js';
import type { Objective } from './presets.js';

export interface DataPosition {
  /** Index into the data files. */
  file: number;
  /** Line index and byte offset of the current document. */
  line: number;
  offset: number;
  /** Sequences of that document already used. */
  sequence: number;
  /** Completed passes over all files. */
  epoch: number;
}

export const START: DataPosition = { file: 0, line: 0, offset: 0, sequence: 0, epoch: 0 };

/**
 * How a document becomes sequences: `truncate` keeps its first seqLen tokens
 * (the original's MLM data); `chunk` cuts all of it into seqLen pieces, each
 * document ending with end-of-text (causal pre-training).
 */
export type Packing = 'truncate' | 'chunk';

export function documentSequences(text: string, tokenizer: BpeTokenizer, objective: Objective, packing: Packing, seqLen: number): number[][] {
  if (objective === 'mlm') {
    if (packing === 'truncate') return [tokenizer.encode(text, { addSpecialTokens: true, maxLength: seqLen })];
    const body = tokenizer.encode(text);
    const room = seqLen - tokenizer.specialTokenCount;
    const out: number[][] = [];
    for (let i = 0; i < Math.max(1, body.length); i += room) out.push(tokenizer.withSpecialTokens(body.slice(i, i + room)));
    return out;
  }
  const eos = tokenizer.eosTokenId;
  const ids = [...tokenizer.encode(text), ...(eos === undefined ? [] : [eos])];
  if (packing === 'truncate') return [ids.slice(0, seqLen)];
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += seqLen) out.push(ids.slice(i, i + seqLen));
  return out.filter((s) => s.length >= 2); // a 1-token piece predicts nothing
}

export interface Sequence {
  ids: number[];
  /** Where the stream continues after this sequence. */
  next: DataPosition;
}

/** Endless sequences over the files, epoch after epoch, from a saved position. */
export async function* sequenceStream(
  files: readonly string[],
  toSequences: (text: string) => number[][],
  from: DataPosition,
): AsyncGenerator<Sequence, void> {
  let position = { ...from };
  for (;;) {
    let yielded = false;
    for (let f = position.file; f < files.length; f++) {
      const start = f === position.file ? { offset: position.offset, index: position.line } : { offset: 0, index: 0 };
      for await (const record of readDocuments(files[f] as string, { from: start, onBadLine: 'skip' })) {
        const sequences = toSequences(record.document.text);
        const first = f === position.file && record.id === position.line ? position.sequence : 0;
        for (let s = first; s < sequences.length; s++) {
          const isLast = s + 1 >= sequences.length;
          // After the last sequence of a document, the next one starts at the following line.
          const next: DataPosition = isLast
            ? { file: f, line: record.id + 1, offset: record.nextOffset, sequence: 0, epoch: position.epoch }
            : { file: f, line: record.id, offset: record.offset, sequence: s + 1, epoch: position.epoch };
          yielded = true;
          yield { ids: sequences[s] as number[], next };
        }
      }
    }
    if (!yielded && position.file === 0 && position.line === 0) throw new Error(`no training sequences in ${files.join(', ')}`);
    position = { ...START, epoch: position.epoch + 1 };
  }
}

/** The next sequence of an endless stream. */
export async function nextSequence(stream: AsyncGenerator<Sequence, void>): Promise<Sequence> {
  const result = await stream.next();
  if (result.done) throw new Error('the sequence stream ended');
  return result.value;
}

export interface Batch {
  ids: Tensor; // [B, T] int64
  labels: Tensor; // [B, T] int64, -100 where nothing is predicted
  attentionMask: Tensor; // [B, T] int64
  /** Tokens that are not padding. */
  tokens: number;
  /** Positions that carry a label (the loss's denominator). */
  predicted: number;
}

/** Pads sequences to the longest and builds inputs and labels for the objective, on `device` (the model's). */
export function makeBatch(
  sequences: readonly number[][],
  objective: Objective,
  tokenizer: BpeTokenizer,
  maskSeed: number,
  device = 'cpu',
): Batch {
  const width = sequences.reduce((most, s) => Math.max(most, s.length), 0);
  const pad = tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;
  const ids: number[] = [];
  const labels: number[] = [];
  const mask: number[] = [];
  let predicted = 0;
  sequences.forEach((sequence, b) => {
    let inputs = sequence;
    let targets: number[] = [...sequence];
    if (objective === 'mlm') {
      const specials = new Set([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId].filter((x): x is number => x !== undefined));
      const masked = maskTokens(sequence, { maskTokenId: tokenizer.maskTokenId ?? 0, vocabSize: tokenizer.vocabSize, specialIds: specials, seed: maskSeed * 1009 + b });
      inputs = masked.inputs;
      targets = masked.labels;
      predicted += targets.filter((t) => t !== -100).length;
    } else {
      predicted += sequence.length - 1;
    }
    // Element by element: a spread of a long sequence into push() would overflow the stack.
    for (let i = 0; i < width; i++) {
      ids.push(i < sequence.length ? inputs[i]! : pad);
      labels.push(i < sequence.length ? targets[i]! : -100);
      mask.push(i < sequence.length ? 1 : 0);
    }
  });
  const shape = [sequences.length, width];
  return {
    ids: tensor(ids, { dtype: 'int64', shape, device }),
    labels: tensor(labels, { dtype: 'int64', shape, device }),
    attentionMask: tensor(mask, { dtype: 'int64', shape, device }),
    tokens: sequences.reduce((n, s) => n + s.length, 0),
    predicted,
  };
}
