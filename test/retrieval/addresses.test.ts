// The addresses file and list as a user writes them (issue 35, point 9):
// ports outside 1..65535 are refused (port 0 would have dialled port 80),
// and an error names the line as the file numbers it, comments and blank
// lines counted.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAddressList, readAddresses } from '../../src/retrieval/addresses.js';

const dir = mkdtempSync(join(tmpdir(), 'tttnn-addresses-'));

test('port 0 or above 65535 is refused naming the line; line numbers count comments and blank lines', () => {
  const file = join(dir, 'addresses');
  const write = (last: string): void => writeFileSync(file, `# servers of run 7\n127.0.0.1:4000\n\n# replica 1\n\n${last}\n127.0.0.1:4001\n`);
  write('127.0.0.1:0');
  assert.throws(() => readAddresses(file), new RegExp(`${file}:6: "127\\.0\\.0\\.1:0" has port 0, not one from 1 to 65535`));
  write('node7:99999');
  assert.throws(() => readAddresses(file), new RegExp(`${file}:6: "node7:99999" has port 99999, not one from 1 to 65535`));
  write('not an address');
  assert.throws(() => readAddresses(file), new RegExp(`${file}:6: "not an address" is not host:port`));
  write('[::1]:65535');
  assert.deepEqual(readAddresses(file), ['127.0.0.1:4000', '[::1]:65535', '127.0.0.1:4001']);
  assert.throws(() => parseAddressList('a:1,b:0'), /--addresses: "b:0" has port 0/);
  assert.throws(() => parseAddressList('a:65536'), /--addresses: "a:65536" has port 65536/);
  assert.deepEqual(parseAddressList('a:1, b:65535'), ['a:1', 'b:65535']);
});
