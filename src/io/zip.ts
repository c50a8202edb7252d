// A read-only zip archive reader (with zip64), enough for torch.save files:
// it lists entries from the central directory and reads one entry's bytes
// with positioned reads, so multi-gigabyte archives are never loaded whole.
// Archives are untrusted: every declared offset and size is checked against
// the file before anything is allocated, a deflated entry may not inflate
// beyond its declared size, and every entry's CRC-32 is checked.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  crc32: number;
}

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (zip's), table-driven: for Node releases before zlib.crc32 (20.15). */
export function crc32Portable(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
/** CRC-32: zlib's where Node has it, else the portable one. */
const crc32 = (data: Uint8Array): number => (zlibCrc32 ? zlibCrc32(data) : crc32Portable(data));

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly fd: number;
  private fileSize = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.readCentralDirectory();
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The bytes of one entry. */
  read(name: string): Buffer {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${this.path}: no entry '${name}' in the archive`);
    const local = this.bytes(entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw new Error(`${this.path}: corrupt local header for '${name}'`);
    const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    this.inside(dataStart, entry.compressedSize, `entry '${name}'`);
    const data = this.bytes(dataStart, entry.compressedSize);
    let out: Buffer;
    if (entry.method === 0) {
      if (entry.size !== entry.compressedSize) throw new Error(`${this.path}: stored entry '${name}' declares ${entry.size} bytes but holds ${entry.compressedSize}`);
      out = data;
    } else if (entry.method === 8) {
      try {
        // Never more than the declared size: a deflate bomb stops here instead of filling memory.
        out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(entry.size, 2 ** 31 - 1)) });
      } catch (error) {
        throw new Error(`${this.path}: entry '${name}' does not inflate to its declared ${entry.size} bytes (${(error as Error).message})`);
      }
      if (out.length !== entry.size) throw new Error(`${this.path}: entry '${name}' inflates to ${out.length} bytes, not its declared ${entry.size}`);
    } else {
      throw new Error(`${this.path}: entry '${name}' uses unsupported compression method ${entry.method}`);
    }
    if (crc32(out) !== entry.crc32) throw new Error(`${this.path}: entry '${name}' fails its CRC-32 check (the file is corrupt)`);
    return out;
  }

  /** [position, position + length) must lie inside the file: checked before allocating `length` bytes. */
  private inside(position: number, length: number, what: string): void {
    if (!(Number.isSafeInteger(position) && Number.isSafeInteger(length) && position >= 0 && length >= 0 && position + length <= this.fileSize)) {
      throw new Error(`${this.path}: ${what} declares bytes [${position}, ${position + length}) beyond the ${this.fileSize}-byte file`);
    }
  }

  private bytes(position: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, position + done);
      if (n === 0) throw new Error(`${this.path}: truncated zip archive (wanted ${length} bytes at ${position})`);
      done += n;
    }
    return out;
  }

  private readCentralDirectory(): void {
    const fileSize = fstatSync(this.fd).size;
    this.fileSize = fileSize;
    const tailLength = Math.min(fileSize, 22 + 65535);
    const tail = this.bytes(fileSize - tailLength, tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${this.path}: not a zip archive (no end-of-central-directory record)`);
    let count = tail.readUInt16LE(eocd + 10);
    let directorySize = tail.readUInt32LE(eocd + 12);
    let directoryOffset = tail.readUInt32LE(eocd + 16);
    // zip64: the real values live in the zip64 end record, found via its locator.
    if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === EOCD64_LOCATOR) {
      const recordOffset = Number(tail.readBigUInt64LE(eocd - 20 + 8));
      this.inside(recordOffset, 56, 'the zip64 end record');
      const record = this.bytes(recordOffset, 56);
      if (record.readUInt32LE(0) !== EOCD64) throw new Error(`${this.path}: corrupt zip64 end record`);
      count = Number(record.readBigUInt64LE(32));
      directorySize = Number(record.readBigUInt64LE(40));
      directoryOffset = Number(record.readBigUInt64LE(48));
    }
    this.inside(directoryOffset, directorySize, 'the central directory');
    const directory = this.bytes(directoryOffset, directorySize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) throw new Error(`${this.path}: corrupt central directory entry ${i}`);
      const method = directory.readUInt16LE(p + 10);
      const crc = directory.readUInt32LE(p + 16);
      let compressedSize = directory.readUInt32LE(p + 20);
      let size = directory.readUInt32LE(p + 24);
      const nameLength = directory.readUInt16LE(p + 28);
      const extraLength = directory.readUInt16LE(p + 30);
      const commentLength = directory.readUInt16LE(p + 32);
      let localHeaderOffset = directory.readUInt32LE(p + 42);
      const name = directory.toString('utf8', p + 46, p + 46 + nameLength);
      // zip64 extra field: 64-bit values for the fields saturated at 0xFFFFFFFF, in this order.
      let extra = p + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = directory.readUInt16LE(extra);
        const length = directory.readUInt16LE(extra + 2);
        if (id === 0x0001) {
          let q = extra + 4;
          const next = (): number => {
            q += 8;
            return Number(directory.readBigUInt64LE(q - 8));
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        extra += 4 + length;
      }
      this.inside(localHeaderOffset, 30 + compressedSize, `entry '${name}'`);
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset, crc32: crc });
      p = extraEnd + commentLength;
    }
  }
}
