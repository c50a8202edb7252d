// A plain HTTP request to a shard server, for tests that send what the
// client never would (bad bodies, wrong tokens, raw endpoints).
import { request } from 'node:http';

export function rawRequest(address: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; body: string }> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
