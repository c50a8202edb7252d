// The health challenge is bound to the connection (issue 35, point 1): a
// process at a stale address that relays the client's connection to a real
// server — a real relay process here, passing bytes on, or terminating TLS
// with the fleet's own certificate — never receives the token in the clear.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DocumentStore } from '../../src/data/document-store.js';
import { FaissIndex } from '../../src/index/index.js';
import { writeNewToken } from '../../src/retrieval/auth.js';
import { health, RetrievalClient } from '../../src/retrieval/client.js';
import { startShardServer, type RunningShardServer } from '../../src/retrieval/shard-server.js';
import { readTransport } from '../../src/retrieval/transport.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const RELAY = new URL('../helpers/relay-process.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tttnn-relay-'));
const tokenFile = join(dir, 'token');
const token = writeNewToken(tokenFile);
const data = join(dir, 'relay.jsonl');
writeFileSync(data, '{"text": "a"}\n{"text": "b"}\n');
const relays: ChildProcess[] = [];
after(() => relays.forEach((r) => r.kill('SIGTERM')));

async function startServer(tls?: { cert: string; key: string }): Promise<{ server: RunningShardServer; stop: () => Promise<void> }> {
  const store = await DocumentStore.open(data);
  const index = FaissIndex.create(4, 'Flat');
  index.add(new Float32Array(8));
  const server = await startShardServer({ index, store, begin: 0, replica: 0, token, embeddingModel: 'm', host: '127.0.0.1', tls });
  return { server, stop: async () => (await server.close(), index.dispose(), store.close()) };
}

/** A relay process in front of `target`; resolves with its address and the log of what clients sent it. */
async function startRelay(target: string, name: string, tls: string[] = []): Promise<{ address: string; sent: () => string }> {
  const log = join(dir, `${name}.log`);
  const child = spawn(process.execPath, [RELAY, target, log, ...tls], { stdio: ['ignore', 'pipe', 'inherit'] });
  relays.push(child);
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code}`)));
  });
  return { address: `127.0.0.1:${port}`, sent: () => readFileSync(log, 'latin1') };
}

test('a relay at a stale address that passes connections on to a real server gets no proof it can use, and never the token (health, connect, tttnn probe)', async () => {
  const { server, stop } = await startServer();
  try {
    const relay = await startRelay(server.address, 'tcp');
    await assert.rejects(
      health(relay.address, token, 3000),
      new RegExp(`${relay.address}: the answer proves the token for a server at ${server.address}, not for ${relay.address}, where the client connected: .*relay.*the token was not sent.*TLS`),
    );
    const client = await RetrievalClient.connect({ addresses: [relay.address, server.address], token, timeoutMs: 3000 });
    assert.deepEqual(client.unreachable, [relay.address]);
    assert.equal(client.shards.size, 1, 'the real server, dialled at its own address, is used');
    // Asynchronously: the server runs in this process.
    const probe = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'probe', '--addresses', relay.address, '--token-file', tokenFile], { timeout: 60_000 }, (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr })),
    );
    assert.equal(probe.status, 2, probe.stderr);
    assert.match(probe.stdout, /DOWN .*proves the token for a server at/);
    const sent = relay.sent();
    assert.match(sent, /x-tttnn-nonce/i, 'the relay did pass the challenge on');
    assert.doesNotMatch(sent, /authorization|Bearer/i);
    assert.ok(!sent.includes(token));
  } finally {
    await stop();
  }
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('over TLS the proof is bound to the session: a relay that terminates TLS with the fleet\'s own certificate gets no usable proof; one that only forwards bytes sees only ciphertext', { skip: hasOpenssl ? false : 'openssl is not installed (scripts/setup.sh --test installs it)' }, async () => {
  const certFile = join(dir, 'fleet.crt');
  const keyFile = join(dir, 'fleet.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=fleet', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const { server, stop } = await startServer({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
  const transport = readTransport(certFile);
  try {
    assert.equal((await health(server.address, token, 3000, transport)).shard, 'relay.jsonl:0-2', 'directly, TLS works');
    const terminating = await startRelay(server.address, 'tls', [certFile, keyFile, certFile]);
    await assert.rejects(health(terminating.address, token, 3000, transport), /did not prove it holds this fleet's token.*the token was not sent/);
    assert.match(terminating.sent(), /x-tttnn-nonce/i, 'the relay read the challenge in the clear and passed it on');
    assert.doesNotMatch(terminating.sent(), /authorization|Bearer/i);
    // A relay that passes TLS bytes on: the session is end to end with the real server, so the proof holds and the token travels encrypted.
    const forwarding = await startRelay(server.address, 'tls-bytes');
    assert.equal((await health(forwarding.address, token, 3000, transport)).shard, 'relay.jsonl:0-2');
    assert.ok(forwarding.sent().length > 0);
    assert.doesNotMatch(forwarding.sent(), /x-tttnn-nonce|authorization|Bearer/i);
    assert.ok(!forwarding.sent().includes(token));
  } finally {
    await stop();
  }
});
