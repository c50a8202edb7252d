// Benchmark: documents of one very long line (issue 35, point 6). Reading a
// line of N MB (lines.ts readLines) and tokenizing it for an embedder that
// sees 512 tokens (BpeTokenizer.encode with maxLength), against tokenizing
// it whole. Prints seconds and the process's peak RSS growth.
//
//   npm run bench:long-lines          BENCH_LINE_MB=5,50 (sizes of the line)
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { readLines } from '../src/data/lines.js';
import { gpt2Tokenizer } from '../src/tokenizers/index.js';

const sizes = (process.env['BENCH_LINE_MB'] ?? '5,50').split(',').map(Number);
const tokenizer = gpt2Tokenizer();
const words = ['the', 'quick', 'brown', 'fox', 'jumps', '123', '!!', "don't", 'héllo', '中文'];
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}`);
for (const mb of sizes) {
  let text = '';
  for (let i = 0; text.length < mb * 1e6; i++) text += `${words[(i * 7) % words.length]} `;
  const path = join(tmpdir(), `tttnn-bench-line-${mb}mb.jsonl`);
  writeFileSync(path, `${JSON.stringify({ text })}\n{"text": "short"}\n`);
  let started = performance.now();
  let longest = 0;
  for await (const line of readLines(path)) longest = Math.max(longest, line.bytes.length);
  const readSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const ids = tokenizer.encode(text, { maxLength: 512 });
  const prefixSeconds = (performance.now() - started) / 1000;
  console.log(`${mb} MB line: read in ${readSeconds.toFixed(2)} s (${longest} bytes); first 512 tokens in ${prefixSeconds.toFixed(3)} s (${ids.length} ids); rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}
// A whole document, as scoring and training windows need it: in 16 K-character
// parts (BpeTokenizer.encodePieces, exact-cuts.ts), against one call over
// the whole text (what encode() did before issue 35's last point). With
// BENCH_WHOLE=1 the one call runs too: seconds and the RSS it leaves.
{
  const mb = sizes[0]!;
  let text = '';
  for (let i = 0; text.length < mb * 1e6; i++) text += `${words[(i * 7) % words.length]} `;
  const time = (label: string, pieceChars: number): void => {
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    let ids = 0;
    for (const piece of tokenizer.encodePieces(text, pieceChars)) ids += piece.length;
    console.log(`${mb} MB tokenized whole, ${label}: ${((performance.now() - started) / 1000).toFixed(2)} s, ${ids} ids, rss +${((process.memoryUsage().rss - rss) / 2 ** 20).toFixed(0)} MiB`);
  };
  time('in 16 K-character parts', 1 << 14);
  if (process.env['BENCH_WHOLE'] === '1') time('in one call', Infinity);
}
