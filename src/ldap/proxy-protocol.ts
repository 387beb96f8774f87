// The PROXY protocol (HAProxy's, v1 text and v2 binary) on listeners behind a TCP load
// balancer, so logs, brute-force counters and per-address limits see the real client.
// https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export type ProxyHeader =
  | { done: false } // need more bytes
  | { done: true; length: number; source?: { address: string; port: number } };

export class ProxyProtocolError extends Error {}

/** Parses a PROXY header at the start of `buf`. `source` is absent for LOCAL/UNKNOWN. */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  if (buf.length >= 1 && buf[0] === 0x0d) {
    if (buf.length < 16) {
      if (!V2_SIGNATURE.subarray(0, buf.length).equals(buf.subarray(0, Math.min(buf.length, 12)))) throw new ProxyProtocolError('not a PROXY protocol header');
      return { done: false };
    }
    if (!buf.subarray(0, 12).equals(V2_SIGNATURE)) throw new ProxyProtocolError('bad PROXY v2 signature');
    const verCmd = buf[12];
    if (verCmd >> 4 !== 2) throw new ProxyProtocolError('unsupported PROXY protocol version');
    const len = buf.readUInt16BE(14);
    if (len > 512) throw new ProxyProtocolError('PROXY v2 header too long');
    if (buf.length < 16 + len) return { done: false };
    const cmd = verCmd & 0x0f;
    const fam = buf[13];
    const total = 16 + len;
    if (cmd === 0x0) return { done: true, length: total }; // LOCAL: the balancer's own check
    if (cmd !== 0x1) throw new ProxyProtocolError('unknown PROXY v2 command');
    if (fam === 0x11 && len >= 12) {
      const a = buf.subarray(16, 20).join('.');
      return { done: true, length: total, source: { address: a, port: buf.readUInt16BE(24) } };
    }
    if (fam === 0x21 && len >= 36) {
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(16 + i).toString(16));
      return { done: true, length: total, source: { address: parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::'), port: buf.readUInt16BE(48) } };
    }
    return { done: true, length: total }; // UNSPEC or unix sockets: keep the socket's address
  }
  // v1: "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", at most 107 bytes.
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    if (buf.length >= 107) throw new ProxyProtocolError('PROXY v1 header too long');
    if (!'PROXY '.startsWith(buf.subarray(0, Math.min(6, buf.length)).toString('latin1'))) throw new ProxyProtocolError('not a PROXY protocol header');
    return { done: false };
  }
  const line = buf.subarray(0, end).toString('latin1');
  const p = line.split(' ');
  if (p[0] !== 'PROXY') throw new ProxyProtocolError('not a PROXY protocol header');
  if (p[1] === 'UNKNOWN') return { done: true, length: end + 2 };
  if ((p[1] !== 'TCP4' && p[1] !== 'TCP6') || p.length !== 6) throw new ProxyProtocolError('malformed PROXY v1 header');
  const port = Number(p[4]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProxyProtocolError('malformed PROXY v1 port');
  return { done: true, length: end + 2, source: { address: p[2], port } };
}
