// The LDAP listener: TCP framing, message decoding, one handler per operation, one log line
// per operation.
//
// We do not use ldapjs's Server: it parses every DN with @ldapjs/dn before our code sees it
// (losing escaped spaces and backslashes), answers anonymous binds itself, and buffers
// messages of any size. Framing here reads the BER length first and refuses a message
// larger than the limit before buffering it.
import net from 'node:net';
import type { BridgeContext, Session } from './context.js';
import { bind } from './ops/bind.js';
import { compare } from './ops/compare.js';
import { search } from './ops/search.js';
import { extended } from './ops/extended.js';
import { decodeMessage, encodeDisconnect, encodeEntry, encodeResult, frameLength, ProtocolError, RESPONSE_TAG, ResultCode, type Message } from './protocol.js';
import { filterToString } from './filter.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ServerLimits {
  maxMessageBytes: number;
  filterMaxDepth: number;
  filterMaxElements: number;
  idleTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxMessageBytes: 256 * 1024,
  filterMaxDepth: 32,
  filterMaxElements: 1024,
  idleTimeoutMs: 15 * 60 * 1000,
};

export function parseListenUrl(url: string): ListenAddress {
  const u = new URL(url);
  if (u.protocol !== 'ldap:') throw new Error(`listen: unsupported URL ${url} (ldap://host:port)`);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = u.port ? Number(u.port) : 389;
  return { host, port };
}

export class LdapServer {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly limits: ServerLimits = DEFAULT_SERVER_LIMITS,
  ) {}

  async listen(addresses: ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    for (const a of addresses) {
      const srv = net.createServer((s) => this.accept(s));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(a.port, a.host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      const addr = srv.address() as net.AddressInfo;
      bound.push({ host: a.host, port: addr.port });
      this.servers.push(srv);
    }
    return bound;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private accept(socket: net.Socket): void {
    // Without TCP_NODELAY a search's entries and its final result wait on Nagle (~40 ms).
    socket.setNoDelay(true);
    socket.setTimeout(this.limits.idleTimeoutMs);
    this.sockets.add(socket);
    const session: Session = { id: this.nextId++, peer: `${socket.remoteAddress}:${socket.remotePort}`, identity: { kind: 'anonymous' }, running: new Map() };
    const log = this.ctx.log;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let queue: Promise<void> = Promise.resolve();
    let closed = false;

    const write = (b: Buffer) => {
      if (!closed && !socket.destroyed) socket.write(b);
    };
    const fail = (code: number, message: string) => {
      log.warn({ conn: session.id, peer: session.peer, code }, `closing connection: ${message}`);
      write(encodeDisconnect(code, message));
      closed = true;
      socket.end();
    };

    socket.on('timeout', () => {
      log.debug({ conn: session.id, peer: session.peer }, 'idle connection closed');
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      closed = true;
      this.sockets.delete(socket);
      for (const r of session.running.values()) r.abandoned = true;
    });
    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      for (;;) {
        let buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        let len: number;
        try {
          len = frameLength(buf);
        } catch (e) {
          return fail(ResultCode.protocolError, (e as Error).message);
        }
        if (len > this.limits.maxMessageBytes || (len < 0 && pendingBytes > this.limits.maxMessageBytes)) {
          return fail(ResultCode.protocolError, `message larger than ${this.limits.maxMessageBytes} bytes`);
        }
        if (len < 0 || buf.length < len) {
          pending = [buf];
          return;
        }
        const frame = buf.subarray(0, len);
        buf = buf.subarray(len);
        pending = buf.length ? [buf] : [];
        pendingBytes = buf.length;
        let msg: Message;
        try {
          msg = decodeMessage(frame, { maxDepth: this.limits.filterMaxDepth, maxElements: this.limits.filterMaxElements });
        } catch (e) {
          const pe = e as ProtocolError;
          if (pe.id !== undefined && pe.responseTag !== undefined) write(encodeResult(pe.id, pe.responseTag, { code: ResultCode.protocolError, message: pe.message }));
          return fail(ResultCode.protocolError, `malformed message: ${pe.message}`);
        }
        const req = msg.request;
        if (req.op === 'abandon') {
          const r = session.running.get(req.id);
          if (r) r.abandoned = true;
          continue;
        }
        if (req.op === 'unbind') {
          log.info({ conn: session.id, peer: session.peer, op: 'unbind' }, 'unbind');
          closed = true;
          socket.end();
          return;
        }
        if (req.op === 'search') session.running.set(msg.id, { abandoned: false });
        // Operations on one connection run in order: a bind must finish before what follows it.
        queue = queue.then(() => this.handle(session, msg, write)).catch((e) => {
          log.error({ conn: session.id, err: { message: (e as Error).message, stack: (e as Error).stack } }, 'operation failed');
          const tag = RESPONSE_TAG[msg.request.op as keyof typeof RESPONSE_TAG];
          if (tag) write(encodeResult(msg.id, tag, { code: ResultCode.operationsError, message: 'internal error' }));
        });
      }
    });
  }

  private async handle(session: Session, msg: Message, write: (b: Buffer) => void): Promise<void> {
    const ctx = this.ctx;
    const req = msg.request;
    const started = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    const base = { conn: session.id, peer: session.peer, msgid: msg.id };
    // A critical control we do not implement must fail the operation (RFC 4511 §4.1.11).
    const unknownCritical = msg.controls.find((c) => c.critical);
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
        ctx.log[level]({ ...base, op: 'bind', dn: req.name, result: r.code, outcome: r.outcome, ms: ms() }, 'bind');
        return;
      }
      case 'search': {
        const state = session.running.get(msg.id) ?? { abandoned: false };
        try {
          const r = await search(ctx, session, req, (e, sel) => write(encodeEntry(msg.id, e.dn, e.select(sel), req.typesOnly)), () => state.abandoned);
          if (r.code >= 0) write(encodeResult(msg.id, RESPONSE_TAG.search, r));
          ctx.log.info({ ...base, op: 'search', dn: req.base, scope: req.scope, filter: filterToString(req.filter), attrs: req.attributes, result: r.code, entries: r.entries, ms: ms() }, 'search');
        } finally {
          session.running.delete(msg.id);
        }
        return;
      }
      case 'compare': {
        const r = await compare(ctx, session, req);
        write(encodeResult(msg.id, RESPONSE_TAG.compare, r));
        ctx.log.info({ ...base, op: 'compare', dn: req.entry, attr: req.attribute, result: r.code, ms: ms() }, 'compare');
        return;
      }
      case 'extended': {
        const r = extended(ctx, session, req);
        write(r.encoded(msg.id));
        ctx.log.info({ ...base, op: 'extended', oid: req.oid, result: r.code, ms: ms() }, 'extended');
        return;
      }
      case 'add':
      case 'modify':
      case 'delete':
      case 'modifyDN': {
        write(encodeResult(msg.id, RESPONSE_TAG[req.op], { code: ResultCode.unwillingToPerform, message: 'the directory is read-only: change users and groups in Django' }));
        ctx.log.info({ ...base, op: req.op, dn: req.entry, result: ResultCode.unwillingToPerform, ms: ms() }, req.op);
        return;
      }
    }
  }
}
