// Progress of long stages: one rewritten line on a terminal, periodic plain
// lines otherwise, and a last line with the wall time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, ProgressLine } from '../../src/cli/progress-line.js';

/** ANSI "erase the line", which the live line writes after a carriage return. */
const CLEAR = '\u001b[2K';

/** A stream that records what is written, as a terminal or as a file. */
function sink(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY, columns: 200, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('on a terminal: one line rewritten in place, with count, rate and ETA; the finish line has the wall time', async () => {
  const out = sink(true);
  const line = new ProgressLine('train', { unit: 'steps', total: 10, stream: out });
  line.update(0);
  await new Promise((r) => setTimeout(r, 300));
  line.update(5, 'loss 3.2');
  assert.equal(out.text.split('\n').length, 1, 'no newline while running');
  assert.deepEqual(out.text.split(`\r${CLEAR}`).slice(0, 2), ['', 'train 0/10 steps'], 'each write starts by erasing the line');
  assert.match(out.text.split(`\r${CLEAR}`).at(-1)!, /^train 5\/10 steps, [\d.]+ steps\/s, ETA [\d.]+s, loss 3\.2$/);
  line.update(6); // within 250 ms of the last write: throttled
  assert.doesNotMatch(out.text, /6\/10/);
  line.finish('10 steps');
  assert.match(out.text.split(`\r${CLEAR}`).at(-1)!, /^train: 10 steps \([\d.]+s\)\n$/);
});

test('not on a terminal: plain lines at most every everySeconds', () => {
  const out = sink(false);
  const line = new ProgressLine('index', { unit: 'documents', everySeconds: 3600, stream: out });
  for (let i = 1; i <= 100; i++) line.update(i);
  assert.equal(out.text, 'index 1 documents\n', 'the first update prints, the rest wait for the period');
  line.log('a message');
  assert.equal(out.text.split('\n').length, 3);
  assert.doesNotMatch(out.text, /\r/);
});

test('durations read as people write them', () => {
  assert.deepEqual([formatDuration(9.44), formatDuration(75), formatDuration(3700), formatDuration(NaN)], ['9.4s', '1m15s', '1h01m', '?']);
});
