// Addresses as a list of host:port or DNS names, and `tttnn probe --wait N`:
// started before the fleet (its addresses file does not exist yet), it
// returns once N real servers answer; with more than will ever answer it
// gives up after --timeout with exit 3 and says how many did.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { FaissIndex } from '../../src/index/index.js';
import { isAddressList, parseAddressList, resolveAddresses } from '../../src/retrieval/addresses.js';
import { writeNewToken } from '../../src/retrieval/auth.js';
import { startFleetProcess } from '../helpers/fleet.js';

const CLI = resolve('bin/tttnn.js');
const dir = mkdtempSync(join(tmpdir(), 'tttnn-wait-'));

test('--addresses: an existing file, else a comma-separated list of host:port with DNS names', () => {
  const dns = 'tttnn-shard-00-0.tttnn-shard-00.tttnn.svc.cluster.local:8080,tttnn-shard-00-1.tttnn-shard-00.tttnn.svc.cluster.local:8080';
  assert.deepEqual(resolveAddresses(dns), dns.split(','));
  assert.deepEqual(parseAddressList('127.0.0.1:1, [::1]:2 ,127.0.0.1:1'), ['127.0.0.1:1', '[::1]:2'], 'trimmed, duplicates dropped');
  assert.throws(() => parseAddressList('a:1,0.0.0.0:5'), /"0\.0\.0\.0:5" is a listening address/);
  assert.throws(() => parseAddressList('a:1,b'), /--addresses: "b" is not host:port/);
  const file = join(dir, 'a:1');
  writeFileSync(file, 'node7:9000\n');
  assert.equal(isAddressList(file), false, 'a file of that name wins');
  assert.equal(isAddressList('a:1'), true);
  assert.throws(() => resolveAddresses(join(dir, 'missing.txt')), /missing\.txt: no addresses file/);
});

function probeWait(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'probe', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

test('tttnn probe --wait N: waits for a fleet started after it, and times out naming what answered', { timeout: 120_000 }, async () => {
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `document ${i}` })).join('\n') + '\n');
  const index = FaissIndex.create(4, 'Flat');
  index.add(Float32Array.from({ length: 24 }, (_, i) => i));
  index.write(`${data}.index`);
  index.dispose();
  const tokenFile = join(dir, 'token');
  writeNewToken(tokenFile);
  const addresses = join(dir, 'addresses');
  const waiting = probeWait(['--addresses', addresses, '--token-file', tokenFile, '--wait', '2', '--timeout', '60']);
  await new Promise((r) => setTimeout(r, 1500)); // the probe is polling a file that does not exist yet
  const fleet = await startFleetProcess({ data, index: `${data}.index`, slices: 2, replicas: 1, addresses, tokenFile });
  try {
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stderr, /probe: 0 of 2 servers answer \(0 listed/);
    assert.match(waited.stderr, /probe: 2 of 2 servers answer \(2 listed/);
    for (const address of fleet.addresses) assert.match(waited.stdout, new RegExp(`${address} {2}up {4}data\\.jsonl:\\d-\\d replica 0 {2}3 vectors`));
    // The same servers named as a list; one more than there are never answers.
    const list = [...fleet.addresses, '127.0.0.1:1'].join(',');
    const start = Date.now();
    const short = spawnSync(process.execPath, [CLI, 'probe', '--addresses', list, '--wait', '3', '--timeout', '2'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(short.status, 3, short.stderr);
    assert.match(short.stderr, /2 of the 3 servers waited for answer after 2 s \(3 listed; not answering: 127\.0\.0\.1:1\)/);
    assert.ok(Date.now() - start < 15_000, 'bounded by --timeout');
  } finally {
    await fleet.stop();
  }
});
