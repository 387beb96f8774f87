// The LDAP listeners: plain (with StartTLS) and ldaps://, and connection limits in total and
// per address.
//
// We do not use ldapjs's Server: it parses every DN with @ldapjs/dn before our code sees it
// (losing escaped spaces and backslashes), answers anonymous binds itself and buffers
// messages of any size. Framing and the operation queue live in connection.ts, the
// operations in dispatch.ts.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { BridgeContext, Session } from './context.js';
import { Connection, type ConnectionLimits } from './connection.js';
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
    maxOutstandingPerConnection: l.maxOutstandingPerConnection,
    maxConnections: l.maxConnections,
    maxConnectionsPerAddress: l.maxConnectionsPerAddress,
  };
}

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

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

  private tlsOptions(): tls.SecureContextOptions {
    const f = this.tlsFiles!;
    return { cert: readFileSync(f.cert), key: readFileSync(f.key), minVersion: 'TLSv1.2' };
  }

  private loadTls(): tls.SecureContext {
    return tls.createSecureContext(this.tlsOptions());
  }

  /** SIGHUP: re-read certificate and key (a broken pair throws and changes nothing); open
   * connections keep the one they started with. */
  reloadTls(): void {
    if (!this.tlsFiles) return;
    const opts = this.tlsOptions();
    const next = tls.createSecureContext(opts);
    this.secure = next;
    for (const s of this.servers) if (s instanceof tls.Server) s.setSecureContext(opts);
    this.ctx.log.info('TLS certificate and key reloaded');
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(addresses: ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    for (const a of addresses) {
      let srv: net.Server;
      if (a.secure) {
        if (!this.secure) throw new Error(`${a.host}:${a.port}: ldaps:// needs tls.cert and tls.key`);
        srv = tls.createServer(this.tlsOptions(), (s) => this.accept(s, true, !!a.proxy));
        srv.on('tlsClientError', () => {});
      } else {
        srv = net.createServer((s) => this.accept(s, false, !!a.proxy));
      }
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
    const address = socket.remoteAddress ?? '';
    const count = this.perAddress.get(address) ?? 0;
    if (this.connections.size >= this.limits.maxConnections || count >= this.limits.maxConnectionsPerAddress) {
      this.ctx.log.warn({ peer: `${address}:${socket.remotePort}`, connections: this.connections.size, fromAddress: count }, 'connection refused: too many connections');
      socket.end(encodeDisconnect(ResultCode.busy, 'too many connections'));
      socket.destroy();
      return;
    }
    this.perAddress.set(address, count + 1);
    const req = this.ctx.config.security.requireTls;
    const session: Session = {
      id: this.nextId++,
      peer: `${address}:${socket.remotePort}`,
      address,
      identity: { kind: 'anonymous' },
      tls: secure,
      tlsRequired: req === 'always' || (req === 'auto' && !isLoopback(socket.localAddress)),
      trusted: false,
      running: new Map(),
      paged: new Map(),
    };
    const conn = new Connection(socket, session, this.ctx, this.limits, () => this.secure, () => {
      this.connections.delete(conn);
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    }, proxy);
    this.connections.add(conn);
  }
}
