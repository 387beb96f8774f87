// The LDAP listeners: plain (with StartTLS) and ldaps://, connection limits in total and per
// address, and one handler per operation with one log line per operation.
//
// We do not use ldapjs's Server: it parses every DN with @ldapjs/dn before our code sees it
// (losing escaped spaces and backslashes), answers anonymous binds itself and buffers
// messages of any size. Framing lives in connection.ts.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { BridgeContext, Session } from './context.js';
import { Connection } from './connection.js';
import { bind } from './ops/bind.js';
import { compare } from './ops/compare.js';
import { search, PAGED_RESULTS, type Paging } from './ops/search.js';
import { randomBytes } from 'node:crypto';
import { decodePagedControl, encodePagedControl } from './controls.js';
import { extended } from './ops/extended.js';
import { encodeDisconnect, encodeEntry, encodeResult, RESPONSE_TAG, ResultCode, type Message } from './protocol.js';
import { filterToString } from './filter.js';
import type { ListenAddress } from './listen-url.js';

export { parseListenUrl, type ListenAddress } from './listen-url.js';

export interface ServerLimits {
  maxMessageBytes: number;
  filterMaxDepth: number;
  filterMaxElements: number;
  idleTimeoutMs: number;
  messageTimeoutMs: number;
  maxOutstandingPerConnection: number;
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
    const conn = new Connection(socket, session, this.ctx, this.limits, (s, m, w, d) => this.handle(s, m, w, d), () => this.secure, () => {
      this.connections.delete(conn);
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    }, proxy);
    this.connections.add(conn);
  }

  private async handle(session: Session, msg: Message, write: (b: Buffer) => void, drained: () => Promise<void>): Promise<void> {
    const ctx = this.ctx;
    const req = msg.request;
    const started = performance.now();
    const ms = () => performance.now() - started;
    // One child logger per connection: conn and peer are serialised once, not per line.
    const log = (session.log ??= ctx.log.child({ conn: session.id, peer: session.peer }));
    const info = log.isLevelEnabled('info');
    const base = { msgid: msg.id };
    // A critical control we do not implement must fail the operation (RFC 4511 §4.1.11).
    const unknownCritical = msg.controls.find((c) => c.critical && !(c.oid === PAGED_RESULTS && req.op === 'search'));
    if (unknownCritical && req.op !== 'bind') {
      const tag = RESPONSE_TAG[req.op as keyof typeof RESPONSE_TAG];
      if (tag) write(encodeResult(msg.id, tag, { code: 12, message: `unsupported critical control ${unknownCritical.oid}` }));
      return;
    }
    switch (req.op) {
      case 'bind': {
        const r = await bind(ctx, session, req);
        write(encodeResult(msg.id, RESPONSE_TAG.bind, r));
        const level = r.outcome === 'success' || r.outcome === 'anonymous' ? 'info' : 'warn';
        const took = ms();
        ctx.metrics.bind(r.outcome, r.cached);
        ctx.metrics.op('bind', r.code, took / 1000);
        if (level === 'warn' || info) log[level]({ ...base, op: 'bind', dn: req.name, result: r.code, outcome: r.outcome, cached: r.cached, ms: took }, r.outcome === 'locked-out' ? 'bind refused: locked out after repeated failures' : 'bind');
        return;
      }
      case 'search': {
        if (req.attributes.length > ctx.config.limits.maxRequestedAttributes) {
          write(encodeResult(msg.id, RESPONSE_TAG.search, { code: 11, message: `more than ${ctx.config.limits.maxRequestedAttributes} attributes requested` }));
          session.running.delete(msg.id);
          return;
        }
        const state = session.running.get(msg.id) ?? { abandoned: false };
        try {
          const pr = msg.controls.find((c) => c.oid === PAGED_RESULTS);
          let paging: Paging | undefined;
          let key = '';
          let cookieIn = '';
          if (pr) {
            let parsed;
            try {
              parsed = decodePagedControl(pr.value);
            } catch {
              write(encodeResult(msg.id, RESPONSE_TAG.search, { code: ResultCode.protocolError, message: 'malformed paged results control' }));
              return;
            }
            cookieIn = parsed.cookie.toString('hex');
            key = JSON.stringify([req.base, req.scope, filterToString(req.filter), req.attributes, req.typesOnly, session.identity]);
            const prev = cookieIn ? session.paged.get(cookieIn) : undefined;
            if (cookieIn && (!prev || prev.key !== key)) {
              write(encodeResult(msg.id, RESPONSE_TAG.search, { code: ResultCode.unwillingToPerform, message: 'unknown paged results cookie (or a different search)' }));
              return;
            }
            if (cookieIn) session.paged.delete(cookieIn);
            if (parsed.size === 0) {
              // Size 0 abandons the paged search (RFC 2696 §3).
              write(encodeResult(msg.id, RESPONSE_TAG.search, { code: ResultCode.success }, [], [{ oid: PAGED_RESULTS, critical: false, value: encodePagedControl(0, Buffer.alloc(0)) }]));
              return;
            }
            paging = { size: parsed.size, resume: prev?.resume };
          }
          const r = await search(ctx, session, req, (e, sel) => write(encodeEntry(msg.id, e.dn, e.select(sel), req.typesOnly)), () => state.abandoned, paging, drained);
          let controls;
          if (pr) {
            let cookie = Buffer.alloc(0);
            if (r.resume) {
              cookie = randomBytes(12);
              // A connection keeps a few open cursors; the oldest goes first.
              if (session.paged.size >= 16) session.paged.delete(session.paged.keys().next().value as string);
              session.paged.set(cookie.toString('hex'), { key, resume: r.resume });
            }
            controls = [{ oid: PAGED_RESULTS, critical: false, value: encodePagedControl(0, cookie) }];
          }
          if (r.code >= 0) write(encodeResult(msg.id, RESPONSE_TAG.search, r, [], controls));
          ctx.metrics.op('search', r.code, ms() / 1000);
          if (info) log.info({ ...base, op: 'search', dn: req.base, scope: req.scope, filter: filterToString(req.filter), attrs: req.attributes, result: r.code, entries: r.entries, ms: ms() }, 'search');
        } finally {
          session.running.delete(msg.id);
        }
        return;
      }
      case 'compare': {
        const r = await compare(ctx, session, req);
        write(encodeResult(msg.id, RESPONSE_TAG.compare, r));
        ctx.metrics.op('compare', r.code, ms() / 1000);
        if (info) log.info({ ...base, op: 'compare', dn: req.entry, attr: req.attribute, result: r.code, ms: ms() }, 'compare');
        return;
      }
      case 'extended': {
        const r = extended(ctx, session, req);
        write(r.encoded(msg.id));
        ctx.metrics.op('extended', r.code, ms() / 1000);
        if (info) log.info({ ...base, op: 'extended', oid: req.oid, result: r.code, ms: ms() }, 'extended');
        return;
      }
      case 'add':
      case 'modify':
      case 'delete':
      case 'modifyDN': {
        write(encodeResult(msg.id, RESPONSE_TAG[req.op], { code: ResultCode.unwillingToPerform, message: 'the directory is read-only: change users and groups in Django' }));
        ctx.metrics.op(req.op, ResultCode.unwillingToPerform, ms() / 1000);
        if (info) log.info({ ...base, op: req.op, dn: req.entry, result: ResultCode.unwillingToPerform, ms: ms() }, req.op);
        return;
      }
    }
  }
}
