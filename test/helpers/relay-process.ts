// A relay, run as its own process by tests (issue 35): it listens on a port
// of 127.0.0.1 and passes every connection on to a real shard server,
// writing everything the client sent (decrypted, when it terminates TLS) to
// a log file, so a test can tell whether the token ever reached it.
//   node relay-process.js <target host:port> <log file>                      bytes as they come (TCP)
//   node relay-process.js <target host:port> <log file> <cert> <key> <ca>   TLS in, TLS out
// Prints "listening <port>" once ready; stops on SIGTERM.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';

const [target, log, certFile, keyFile, caFile] = process.argv.slice(2);
if (!target || !log) throw new Error('usage: relay-process.js <target host:port> <log file> [<cert> <key> <ca>]');
const colon = target.lastIndexOf(':');
const host = target.slice(0, colon);
const port = Number(target.slice(colon + 1));
writeFileSync(log, '');

function relay(client: Socket, upstream: Socket): void {
  client.on('data', (chunk: Buffer) => appendFileSync(log!, chunk));
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

const server = certFile
  ? createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile!) }, (client) => relay(client, tlsConnect({ host, port, ca: readFileSync(caFile!), servername: undefined })))
  : createServer((client) => relay(client, connect({ host, port })));
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
