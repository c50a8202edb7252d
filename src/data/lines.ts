// Streaming the lines of a text file, plain or zstd-compressed (.zst), with
// the byte offset of each line in the uncompressed stream. Lines are split
// on raw bytes, so a multi-byte character split across chunks is intact.
import { createReadStream } from 'node:fs';
import { Decompress } from 'fzstd';

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
 * Every line of `path` (a final line without a newline included; a trailing
 * empty line not), optionally from a known line start (resuming a reader):
 * plain files seek there; compressed ones are decompressed and skipped to it.
 */
export async function* readLines(path: string, from: LineStart = { offset: 0, index: 0 }): AsyncGenerator<Line> {
  const seek = !path.endsWith('.zst');
  let carry = Buffer.alloc(0);
  let offset = seek ? from.offset : 0;
  let index = seek ? from.index : 0;
  for await (const chunk of chunks(path, seek ? from.offset : 0)) {
    let data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let newline = data.indexOf(10, start); newline >= 0; newline = data.indexOf(10, start)) {
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline; // tolerate CRLF
      if (offset >= from.offset) yield { index, offset, bytes: data.subarray(start, end), next: offset + newline + 1 - start };
      index++;
      offset += newline + 1 - start;
      start = newline + 1;
    }
    carry = Buffer.from(data.subarray(start));
    data = carry;
  }
  if (carry.length > 0 && offset >= from.offset) yield { index, offset, bytes: carry, next: offset + carry.length };
}
