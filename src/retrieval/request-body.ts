// A shard server's reading of a request body, bounded before any parsing:
// at most the bytes the largest legal request needs (protocol.ts
// maxRequestBytes, from the server's dimension), beyond which it is refused
// with 413 and discarded, not kept; and JSON nesting scanned in one pass
// before JSON.parse, so that no body — a few MiB of "[" — can hold the
// event loop for seconds or take gigabytes while health probes wait.
import type { IncomingMessage } from 'node:http';
import { LIMITS } from './protocol.js';

/** An answer other than 200: its status and the message for {"error": ...}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a shard server's 413 says the limit is made of (another server says its own). */
const SHARD_LIMIT_NOTE = `the largest legal request: ${LIMITS.maxQueries} query vectors of its dimension, or ${LIMITS.maxK} ids`;

function tooLarge(size: number | string, maxBytes: number, note: string): HttpError {
  return new HttpError(413, `request body of ${size} bytes exceeds this server's limit of ${maxBytes} bytes (${note})`);
}

/**
 * The body, up to `maxBytes`. A larger body is refused with 413 and never
 * parsed: the rest of it is read and discarded up to LIMITS.maxBodyBytes in
 * all, so that a client that sent a little too much still reads the answer;
 * a body declared or found to be larger than that is not read on (the answer
 * closes the connection: shard-server.ts). Only requests that passed the
 * token get here.
 */
export function readBody(request: IncomingMessage, maxBytes: number, limitNote = SHARD_LIMIT_NOTE): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > LIMITS.maxBodyBytes) return Promise.reject(tooLarge(declared, maxBytes, limitNote));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > LIMITS.maxBodyBytes) {
        request.pause();
        reject(tooLarge(`more than ${LIMITS.maxBodyBytes}`, maxBytes, limitNote));
      }
    });
    request.on('end', () => (size > maxBytes ? reject(tooLarge(size, maxBytes, limitNote)) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

/**
 * The deepest nesting of arrays and objects in a JSON text, stopping once it
 * passes `limit` (brackets inside strings do not count). One pass over the
 * bytes, no allocation.
 */
export function jsonDepthExceeds(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The body as a JSON object (`shape` names its fields in the message), read within `maxBytes`. */
export async function readJsonObject(request: IncomingMessage, maxBytes: number, shape: string, limitNote = SHARD_LIMIT_NOTE): Promise<Record<string, unknown>> {
  const body = await readBody(request, maxBytes, limitNote);
  if (jsonDepthExceeds(body, LIMITS.maxJsonDepth)) throw new HttpError(400, `the body nests arrays or objects more than ${LIMITS.maxJsonDepth} deep; a request is a JSON object ${shape}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, `the body must be a JSON object ${shape}`);
  return parsed as Record<string, unknown>;
}
