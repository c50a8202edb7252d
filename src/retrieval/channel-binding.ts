// What the health challenge's proof is bound to: the connection the client
// opened. Without it, the proof would only show that *some* server holds the
// token, and a process at a stale address could pass the client's nonce on to
// a real server's open /v1/health, hand back that server's proof, and then
// receive the token (issue 35). Both ends name the same connection:
//   - over TLS, keying material exported from the session (RFC 5705); a relay
//     that terminates TLS holds two sessions with different material, and a
//     relay that only forwards bytes never sees the token in the clear;
//   - over plain TCP, the IP address and port the client connected to, which
//     the server reads as its socket's local address: a relay listens on
//     another address or port than the server it forwards to.
// A port forward or NAT between client and server is, for plain TCP, such a
// relay too: the client must dial the server's own address, or use TLS.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/** Label of the keying material exported for the proof (RFC 5705 labels begin with "EXPORTER"). */
const EXPORTER_LABEL = 'EXPORTER-tttnn-health';

/** The binding of a connection, as both of its ends compute it. */
export interface ChannelBinding {
  /** What the proof's HMAC covers: "tls:<hex>" or "tcp:<ip>:<port>". */
  value: string;
  /** For messages: "TLS session" or the TCP address ("127.0.0.1:8080"). */
  shown: string;
}

/** "::ffff:127.0.0.1" (an IPv4 client of a dual-stack socket) -> "127.0.0.1"; IPv6 in brackets. */
function hostPort(ip: string | undefined, port: number | undefined): string {
  const bare = (ip ?? '?').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return `${bare.includes(':') ? `[${bare}]` : bare}:${port ?? '?'}`;
}

function tlsBinding(socket: TLSSocket): ChannelBinding {
  return { value: `tls:${socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)).toString('hex')}`, shown: 'TLS session' };
}

/** The binding of a connection a server accepted: its TLS session, or the address it was reached at. */
export function serverChannel(socket: Socket): ChannelBinding {
  if (socket instanceof TLSSocket) return tlsBinding(socket);
  const address = hostPort(socket.localAddress, socket.localPort);
  return { value: `tcp:${address}`, shown: address };
}

/** The binding of a connection a client opened: its TLS session, or the address it connected to. */
export function clientChannel(socket: Socket): ChannelBinding {
  if (socket instanceof TLSSocket) return tlsBinding(socket);
  const address = hostPort(socket.remoteAddress, socket.remotePort);
  return { value: `tcp:${address}`, shown: address };
}
