// TensorBoard event files, written by hand: no maintained npm library writes
// them without a native TensorFlow (tfjs-node downloads libtensorflow at
// install, which this project's machines cannot). The format is small:
//
//   a TFRecord per event:  u64 length (LE) | u32 masked CRC32C of those 8 bytes
//                          | the bytes      | u32 masked CRC32C of the bytes
//   masked CRC32C:         ((crc >>> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32)
//   the bytes:             a tensorflow.Event protobuf (tensorflow/core/util/event.proto):
//                          1 wall_time double, 2 step int64, 3 file_version string,
//                          5 summary Summary { repeated Value value = 1 }
//                          Value { 1 tag string, 2 simple_value float }
//
// The first event of a file carries file_version "brain.Event:2", as every
// writer's does. Files are named events.out.tfevents.<seconds>.<host>.<pid>
// (TensorBoard reads every file with "tfevents" in its name), so each process
// — a resumed training, another rank — writes its own. Each event is written
// with one write() as it comes: a crash loses nothing written before it.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the table, built once. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC (a CRC stored next to data that holds CRCs would otherwise be weak). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Protobuf varint of a non-negative integer (steps fit in 2^53). */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(bytes.length)]), bytes]);
}

/** Summary.Value { tag, simple_value } */
function scalarValue(tag: string, value: number): Buffer {
  const simple = Buffer.alloc(5);
  simple[0] = (2 << 3) | 5; // field 2, fixed32
  simple.writeFloatLE(value, 1);
  return Buffer.concat([lengthDelimited(1, Buffer.from(tag, 'utf8')), simple]);
}

/** An Event with wall_time, step, and a file_version or a summary of scalars. */
export function eventBytes(wallTime: number, step: number, body: { fileVersion: string } | { scalars: Record<string, number> }): Buffer {
  const head = Buffer.alloc(9);
  head[0] = (1 << 3) | 1; // field 1, fixed64
  head.writeDoubleLE(wallTime, 1);
  const parts: Buffer[] = [head, Buffer.from([2 << 3, ...varint(step)])];
  if ('fileVersion' in body) parts.push(lengthDelimited(3, Buffer.from(body.fileVersion, 'utf8')));
  else parts.push(lengthDelimited(5, Buffer.concat(Object.entries(body.scalars).map(([tag, v]) => lengthDelimited(1, scalarValue(tag, v))))));
  return Buffer.concat(parts);
}

/** An event file under `logdir`, written one scalar event at a time. */
export class EventFileWriter {
  readonly path: string;
  private fd: number | null;

  constructor(logdir: string) {
    mkdirSync(logdir, { recursive: true });
    const now = Date.now() / 1000;
    this.path = join(logdir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}`);
    this.fd = openSync(this.path, 'a');
    this.write(eventBytes(now, 0, { fileVersion: 'brain.Event:2' }));
  }

  private write(event: Buffer): void {
    if (this.fd === null) throw new Error(`${this.path}: written after close`);
    writeSync(this.fd, tfRecord(event));
  }

  /** Scalars (tag -> value) at `step`; values that are not finite numbers are left out (TensorBoard would plot them as gaps anyway). */
  scalars(step: number, values: Record<string, number | null | undefined>): void {
    const finite = Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
    if (Object.keys(finite).length > 0) this.write(eventBytes(Date.now() / 1000, step, { scalars: finite }));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
