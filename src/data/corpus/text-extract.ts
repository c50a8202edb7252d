// Turning packaged files into plain text: gzip, HTML, roff man pages,
// fortune files, dictd dictionaries, and splitting long texts into
// document-sized chunks at paragraph boundaries.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text (gunzipped when it ends in .gz or .dz); null when it is not valid UTF-8. */
export function readText(path: string): string | null {
  let bytes = readFileSync(path);
  if (path.endsWith('.gz') || path.endsWith('.dz')) bytes = gunzipSync(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', hellip: '…', copy: '©', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? match;
  });
}

/** Visible text of an HTML page: scripts, styles and navigation dropped, block elements as line breaks. */
export function htmlToText(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  return tidyWhitespace(
    decodeEntities(
      body
        .replace(/<(script|style|nav|head)\b[\s\S]*?<\/\1>/gi, '')
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/<\/?(p|div|h[1-6]|li|ul|ol|pre|tr|table|section|article|dt|dd|dl|blockquote)\b[^>]*>/gi, '\n')
        .replace(/<br\s*\/?>/gi, '\n')
        .replace(/<[^>]+>/g, ''),
    ),
  );
}

/** Plain text of a roff man page: macros unwrapped, font escapes removed, comments dropped. */
export function roffToText(roff: string): string {
  const out: string[] = [];
  for (const line of roff.split('\n')) {
    if (line.startsWith('.\\"') || line.startsWith("'\\\"") || /^\.(TH|PD|ad|na|nh|hy|ft|ps|sp|in|ti|ne|so|ds|de|ig|if|ie|el|nr|IX|UC|\.)\b/.test(line)) continue;
    const macro = /^\.([A-Za-z]{1,2})\s*(.*)$/.exec(line);
    let text = line;
    if (macro) {
      const [, name, args = ''] = macro;
      if (name === 'SH' || name === 'SS') text = `\n${args.replace(/"/g, '')}`;
      else if (name === 'PP' || name === 'LP' || name === 'P' || name === 'TP' || name === 'IP' || name === 'br') text = args ? args.replace(/"/g, '') : '';
      else text = args.replace(/"/g, '');
    }
    out.push(
      text
        .replace(/\\f[BIRP1-4]|\\f\(\w\w|\\f\[\w*\]/g, '')
        .replace(/\\\(em|\\\(en/g, '—')
        .replace(/\\\((aq|cq)/g, "'")
        .replace(/\\\((lq|rq|dq)/g, '"')
        .replace(/\\-/g, '-')
        .replace(/\\e/g, '\\')
        .replace(/\\&|\\:|\\%|\\\//g, '')
        .replace(/\\ /g, ' '),
    );
  }
  return tidyWhitespace(out.join('\n'));
}

/** The entries of a fortune file (separated by lines holding only '%'). */
export function splitFortunes(text: string): string[] {
  return text
    .split(/\n%\n/)
    .map((f) => f.trim())
    .filter((f) => f.length > 0 && f !== '%');
}

/** Collapses runs of spaces and of blank lines. */
export function tidyWhitespace(text: string): string {
  return text
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Splits text longer than maxBytes into chunks at paragraph (else line, else character) boundaries. */
export function chunkText(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text) <= maxBytes) return [text];
  const chunks: string[] = [];
  let current = '';
  const pieces = text.split(/(?<=\n\n)/);
  for (const piece of pieces) {
    if (Buffer.byteLength(current) + Buffer.byteLength(piece) > maxBytes && current.length > 0) {
      chunks.push(current.trim());
      current = '';
    }
    if (Buffer.byteLength(piece) > maxBytes) {
      // One huge paragraph: cut by lines, then by characters.
      for (const line of piece.split(/(?<=\n)/)) {
        if (Buffer.byteLength(current) + Buffer.byteLength(line) > maxBytes && current.length > 0) {
          chunks.push(current.trim());
          current = '';
        }
        let rest = line;
        while (Buffer.byteLength(rest) > maxBytes) {
          const cut = Math.floor(maxBytes / 4); // ≤ 4 bytes per character: safe
          chunks.push(rest.slice(0, cut));
          rest = rest.slice(cut);
        }
        current += rest;
      }
    } else {
      current += piece;
    }
  }
  if (current.trim().length > 0) chunks.push(current.trim());
  return chunks.filter((c) => c.length > 0);
}

const DICTD_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function dictdNumber(encoded: string): number {
  let value = 0;
  for (const ch of encoded) value = value * 64 + DICTD_DIGITS.indexOf(ch);
  return value;
}

/** Entries of a dictd dictionary (.index + .dict.dz): [headword, definition] in index order. */
export function readDictd(indexPath: string, dictPath: string): [string, string][] {
  const dict = gunzipSync(readFileSync(dictPath)); // dictzip is gzip-compatible
  const entries: [string, string][] = [];
  for (const line of readFileSync(indexPath, 'utf8').split('\n')) {
    const [word, offset, length] = line.split('\t');
    if (!word || !offset || !length || word.startsWith('00database')) continue;
    const start = dictdNumber(offset);
    entries.push([word, dict.toString('utf8', start, start + dictdNumber(length)).trim()]);
  }
  return entries;
}
