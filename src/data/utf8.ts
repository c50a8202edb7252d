// Strict UTF-8. Buffer.toString('utf8') replaces an invalid sequence with
// U+FFFD (3 bytes), so the text's byte count — the denominator of bits per
// byte, lm-evaluation-harness's len(text.encode('utf-8')) — would differ
// from the file's and the document would be scored as something it is not.
// The original reads its files with Python's strict decoder, which raises.
import { isUtf8 } from 'node:buffer';

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence; -1 when all of `bytes` is valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  const continuation = (at: number, low = 0x80, high = 0xbf): boolean => at < bytes.length && bytes[at]! >= low && bytes[at]! <= high;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let length: number;
    if (b < 0x80) length = 1;
    else if (b >= 0xc2 && b <= 0xdf) length = continuation(i + 1) ? 2 : 0;
    else if (b >= 0xe0 && b <= 0xef) {
      const [low, high] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
      length = continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const [low, high] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      length = continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
    } else length = 0;
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/** The text of a whole file, refusing invalid UTF-8 with the file, line and byte (instead of replacing it). */
export function readUtf8Text(path: string, bytes: Buffer): string {
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = bytes.indexOf(10); i !== -1 && i < bad; i = bytes.indexOf(10, i + 1)) line++;
    throw new Error(`${path}:${line}: invalid UTF-8 (byte 0x${bytes[bad]!.toString(16)} at byte ${bad} of the file); re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`);
  }
  return bytes.toString('utf8');
}
