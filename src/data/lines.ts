// Streaming the lines of a text file, plain or zstd-compressed (.zst), with
// the byte offset of each line in the uncompressed stream. Lines are split
// on raw bytes, so a multi-byte character split across chunks is intact.
import { createReadStream } from 'node:fs';
import { Decompress } from 'fzstd';
import { requireRegularFile } from './regular-file.js';

export interface Line {
  /** 0-based line index. */
  index: number;
  /** Byte offset of the line's start in the (uncompressed) file. */
  offset: number;
  /** The line's bytes, without the newline. */
  bytes: Buffer;
  /** Byte offset where the next line starts. */
  next: number;
}

/** Raw chunks of a file from byte `start`, decompressed when its name ends in .zst (then `start` must be 0). */
async function* chunks(path: string, start = 0): AsyncGenerator<Buffer> {
  const compressed = path.endsWith('.zst');
  const stream = createReadStream(path, { highWaterMark: 1 << 20, start: compressed ? 0 : start });
  if (!compressed) {
    for await (const chunk of stream) yield chunk as Buffer;
    return;
  }
  const pending: Buffer[] = [];
  let ended = false;
  const decompressor = new Decompress((chunk: Uint8Array, final?: boolean) => {
    pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    ended ||= final === true;
  });
  for await (const chunk of stream) {
    try {
      decompressor.push(chunk as Uint8Array);
    } catch (error) {
      throw new Error(`${path}: corrupt zstd stream (${(error as Error).message})`);
    }
    yield* pending.splice(0);
  }
  try {
    decompressor.push(new Uint8Array(0), true);
  } catch (error) {
    throw new Error(`${path}: truncated zstd stream (${(error as Error).message})`);
  }
  yield* pending.splice(0);
  if (!ended) throw new Error(`${path}: truncated zstd stream (it ends inside a frame)`);
}

export interface LineStart {
  /** Byte offset of a line start (in the uncompressed stream). */
  offset: number;
  /** That line's index. */
  index: number;
}

/**
 * The longest line read by default: far beyond any real document (the
 * Pile's longest are a few MB), below what V8 can hold as one string (about
 * 512 M characters). A longer line is an error naming the file and line
 * (--max-line-bytes raises it).
 */
export const DEFAULT_MAX_LINE_BYTES = 256 * 2 ** 20;

/** The help of --max-line-bytes, on every command that reads data files (index build, serve, eval). */
export const MAX_LINE_BYTES_HELP = 'the longest line (document) of a data file read; a longer one is an error naming its file and line';

/** A line longer than the limit: named, with the fix. */
export function lineTooLong(path: string, index: number, offset: number, maxLineBytes: number): Error {
  return new Error(`${path}:${index + 1}: the line starting at byte ${offset} is longer than the limit of ${maxLineBytes} bytes; split the document, or raise the limit if it is meant to be this long (--max-line-bytes of tttnn index build, serve and eval)`);
}

/**
 * Every line of `path` (a final line without a newline included; a trailing
 * empty line not), optionally from a known line start (resuming a reader):
 * plain files seek there; compressed ones are decompressed and skipped to it.
 * Linear in the file's size however long its lines: the pieces of a line
 * that spans chunks are joined once, when its end is found. A line longer
 * than `maxLineBytes` is an error.
 */
export async function* readLines(path: string, from: LineStart = { offset: 0, index: 0 }, maxLineBytes = DEFAULT_MAX_LINE_BYTES): AsyncGenerator<Line> {
  requireRegularFile(path, 'the data file');
  const seek = !path.endsWith('.zst');
  let pieces: Buffer[] = []; // the current line's bytes from earlier chunks
  let pending = 0; // their total length
  let offset = seek ? from.offset : 0;
  let index = seek ? from.index : 0;
  for await (const chunk of chunks(path, seek ? from.offset : 0)) {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      if (pending + newline - start > maxLineBytes) throw lineTooLong(path, index, offset, maxLineBytes);
      const whole = pending > 0 ? Buffer.concat([...pieces, chunk.subarray(start, newline)]) : chunk.subarray(start, newline);
      const end = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length; // tolerate CRLF
      if (offset >= from.offset) yield { index, offset, bytes: whole.subarray(0, end), next: offset + whole.length + 1 };
      index++;
      offset += whole.length + 1;
      pieces = [];
      pending = 0;
      start = newline + 1;
    }
    if (start < chunk.length) {
      pending += chunk.length - start;
      if (pending > maxLineBytes) throw lineTooLong(path, index, offset, maxLineBytes);
      pieces.push(Buffer.from(chunk.subarray(start))); // a copy: the chunk may be reused, and need not be kept whole
    }
  }
  if (pending > 0 && offset >= from.offset) yield { index, offset, bytes: Buffer.concat(pieces), next: offset + pending };
}
