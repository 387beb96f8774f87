// The LDAP listeners: plain (with StartTLS) and ldaps://, and connection limits in total and
// per address. Connections count from the moment they are accepted: an ldaps:// client that
// never finishes its handshake holds a place (and loses it after the handshake timeout). On a
// PROXY protocol listener the per-address limit counts the client address the header gives;
// the balancer's own connections are bounded by the total alone.
//
// We do not use ldapjs's Server: it parses every DN with @ldapjs/dn before our code sees it
// (losing escaped spaces and backslashes), answers anonymous binds itself and buffers
// messages of any size. Framing and the operation queue live in connection.ts, the
// operations in dispatch.ts.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { BridgeContext, Session } from './context.js';
import { Connection, serverTlsSocket, type ConnectionLimits } from './connection.js';
import { encodeDisconnect, ResultCode } from './protocol.js';
import type { ListenAddress } from './listen-url.js';

export { parseListenUrl, type ListenAddress } from './listen-url.js';

export interface ServerLimits extends ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export function serverLimits(l: BridgeContext['config']['limits']): ServerLimits {
  return {
    maxMessageBytes: l.maxMessageBytes,
    filterMaxDepth: l.filterMaxDepth,
    filterMaxElements: l.filterMaxElements,
    idleTimeoutMs: l.idleTimeoutSeconds * 1000,
    messageTimeoutMs: l.messageTimeoutSeconds * 1000,
    handshakeTimeoutMs: l.handshakeTimeoutSeconds * 1000,
    maxOutstandingPerConnection: l.maxOutstandingPerConnection,
    maxConnections: l.maxConnections,
    maxConnectionsPerAddress: l.maxConnectionsPerAddress,
  };
}

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

/** The certificate or key named by `tls:` cannot be used; the message names the setting. */
export class TlsFilesError extends Error {}

export class LdapServer {
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;
  private secure: tls.SecureContext | undefined;
  private tlsFiles: { cert: string; key: string } | null;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly limits: ServerLimits,
  ) {
    this.tlsFiles = ctx.config.tls;
    if (this.tlsFiles) this.secure = this.loadTls();
  }

  private loadTls(): tls.SecureContext {
    const f = this.tlsFiles!;
    const read = (setting: 'tls.cert' | 'tls.key', file: string) => {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new TlsFilesError(`${setting}: cannot read ${file}: ${(e as Error).message}`);
      }
    };
    const cert = read('tls.cert', f.cert);
    const key = read('tls.key', f.key);
    try {
      return tls.createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    } catch (e) {
      throw new TlsFilesError(`tls.cert, tls.key: ${f.cert} and ${f.key} are not a PEM certificate chain and its private key: ${(e as Error).message}`);
    }
  }

  /** SIGHUP: re-read certificate and key (a broken pair throws and changes nothing); open
   * connections keep the one they started with. */
  reloadTls(): void {
    if (!this.tlsFiles) return;
    // New connections, ldaps:// and StartTLS alike, take the context accept() finds here.
    this.secure = this.loadTls();
    this.ctx.log.info('TLS certificate and key reloaded');
  }

  /** Closes, each with a Notice of Disconnection, the connections whose session `stale`
   * picks; returns how many. */
  disconnectSessions(stale: (s: Session) => boolean, code: number, message: string): number {
    let n = 0;
    for (const c of this.connections) {
      if (!stale(c.session)) continue;
      c.disconnect(code, message);
      n++;
    }
    return n;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(addresses: ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    for (const a of addresses) {
      if (a.secure && !this.secure) throw new Error(`${a.host}:${a.port}: ldaps:// needs tls.cert and tls.key`);
      // ldaps:// too is a plain TCP server, the TLS handshake ours (see accept()).
      const srv = net.createServer((s) => this.accept(s, a.secure, !!a.proxy));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(a.port, a.host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const addr = srv.address() as net.AddressInfo;
      bound.push({ host: a.host, port: addr.port, secure: a.secure, proxy: a.proxy });
      this.servers.push(srv);
    }
    return bound;
  }

  /** Stops listening, lets operations in flight finish (bounded), then closes connections. */
  async close(graceMs = 5000): Promise<void> {
    // net.Server.close() stops accepting at once but calls back only when every connection
    // has ended, so wait on it after the connections are dealt with.
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    const deadline = Date.now() + graceMs;
    while ([...this.connections].some((c) => c.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.connections) c.destroy();
    await closed;
  }

  private accept(socket: net.Socket, secure: boolean, proxy: boolean): void {
    const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort}`;
    // Behind a balancer every connection comes from its address: the client's is counted once
    // the PROXY header names it.
    if (this.connections.size >= this.limits.maxConnections || (!proxy && !this.admit(socket.remoteAddress ?? ''))) {
      this.refuse(peer, socket.remoteAddress ?? '');
      if (!secure) socket.end(encodeDisconnect(ResultCode.busy, 'too many connections'));
      socket.destroy();
      return;
    }
    let counted = proxy ? undefined : (socket.remoteAddress ?? '');
    const req = this.ctx.config.security.requireTls;
    const session: Session = {
      id: this.nextId++,
      peer,
      address: socket.remoteAddress ?? '',
      identity: { kind: 'anonymous' },
      tls: secure,
      tlsRequired: req === 'always' || (req === 'auto' && !isLoopback(socket.localAddress)),
      trusted: false,
      running: new Map(),
      paged: new Map(),
    };
    const transport = secure ? serverTlsSocket(socket, this.secure!, this.limits.handshakeTimeoutMs) : socket;
    const admitClient = (address: string): boolean => {
      if (!this.admit(address)) {
        this.refuse(peer, address);
        return false;
      }
      counted = address;
      return true;
    };
    const conn = new Connection(transport, session, this.ctx, this.limits, () => this.secure, () => {
      this.connections.delete(conn);
      if (counted !== undefined) this.release(counted);
    }, proxy ? admitClient : undefined);
    this.connections.add(conn);
  }

  /** Counts one more connection from `address`; false (nothing counted) when it has its limit. */
  private admit(address: string): boolean {
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.limits.maxConnectionsPerAddress) return false;
    this.perAddress.set(address, count + 1);
    return true;
  }

  private release(address: string): void {
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }

  private refuse(peer: string, address: string): void {
    this.ctx.log.warn({ peer, address, connections: this.connections.size, fromAddress: this.perAddress.get(address) ?? 0 }, 'connection refused: too many connections');
  }
}
