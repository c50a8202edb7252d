// File-system errors name the file (issue 35, point 10): Node's EISDIR from
// reading a directory, or ENOSPC from a full disk, carry no path, so the user
// was left with "EISDIR: illegal operation on a directory, read". Tried
// through the CLI with a directory where a file is expected, and with
// /dev/full (every write fails with ENOSPC) as the disk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeAll, writeFileDurably } from '../../src/io/durable.js';
import { loadTokenizer } from '../../src/tokenizers/index.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
const dir = mkdtempSync(join(tmpdir(), 'tttnn-path-errors-'));

test('a directory given as --text-file, --addresses or --token-file is refused naming it and saying to give a file', () => {
  const token = join(dir, 'token');
  writeFileSync(token, 'a-token-of-at-least-16-characters', { mode: 0o600 });
  const folder = join(dir, 'a-directory');
  mkdirSync(folder);
  const score = run('score', '--model', join(dir, 'no-model'), '--text-file', folder);
  assert.notEqual(score.status, 0);
  assert.match(score.stderr, new RegExp(`tttnn: ${folder}: cannot read it \\(EISDIR; it is a directory: give a file\\)`));
  const probe = run('probe', '--addresses', folder, '--token-file', token);
  assert.notEqual(probe.status, 0);
  assert.match(probe.stderr, new RegExp(`tttnn: ${folder}: cannot read it \\(EISDIR; it is a directory: give a file\\)`));
  const tokenDir = run('probe', '--addresses', join(dir, 'none'), '--token-file', folder);
  assert.match(tokenDir.stderr, new RegExp(`${folder}: the token file is a directory, not a regular file; give a file`));
  // A tokenizer whose merges.txt is a directory.
  const tokenizer = join(dir, 'tokenizer');
  mkdirSync(join(tokenizer, 'merges.txt'), { recursive: true });
  writeFileSync(join(tokenizer, 'vocab.json'), '{"a": 0}');
  assert.throws(() => loadTokenizer(tokenizer), new RegExp(`${join(tokenizer, 'merges.txt')}: cannot read it \\(EISDIR`));
});

test('a full disk (ENOSPC) names the file being written', () => {
  const fd = openSync('/dev/full', 'w');
  try {
    assert.throws(() => writeAll(fd, Buffer.from('a result line\n'), '/dev/full'), /^Error: \/dev\/full: cannot write it \(ENOSPC; the disk is full: free space or write elsewhere\)$/);
  } finally {
    closeSync(fd);
  }
  // A durable write into a directory that is a file fails naming the path, not only "ENOTDIR".
  const notADir = join(dir, 'plain-file');
  writeFileSync(notADir, 'x');
  assert.throws(() => writeFileDurably(join(notADir, 'out.json'), '{}'), new RegExp(notADir));
});
