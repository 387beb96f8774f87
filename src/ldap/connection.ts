// One client connection: framing (the BER length is read first and a message larger than the
// limit is refused before it is buffered), the slow-loris timer, the per-connection operation
// queue (operations run in order through dispatch.ts: a bind must finish before what follows
// it; Abandon and Unbind are carried out at once), and StartTLS, which upgrades the socket in
// place (RFC 4511 §4.14).
import type net from 'node:net';
import tls from 'node:tls';
import type { BridgeContext, Session } from './context.js';
import { dispatch, operationOf } from './dispatch.js';
import { decodeMessage, encodeDisconnect, encodeExtendedResult, encodeResult, frameLength, ProtocolError, ResultCode, type Message } from './protocol.js';
import { STARTTLS } from './ops/extended.js';
import { parseProxyHeader } from './proxy-protocol.js';

/** What one connection may send and how long it may take. */
export interface ConnectionLimits {
  maxMessageBytes: number;
  filterMaxDepth: number;
  filterMaxElements: number;
  idleTimeoutMs: number;
  messageTimeoutMs: number;
  /** A TLS handshake (ldaps:// or StartTLS), or a PROXY header, must be done within this. */
  handshakeTimeoutMs: number;
  maxOutstandingPerConnection: number;
}

/** The server side of TLS over an accepted socket, destroyed unless its handshake is over
 * within `timeoutMs` (a client that connects and says nothing must not keep its place). */
export function serverTlsSocket(socket: net.Socket, secureContext: tls.SecureContext, timeoutMs: number): tls.TLSSocket {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
  const timer = setTimeout(() => secure.destroy(), timeoutMs);
  timer.unref();
  secure.once('secure', () => clearTimeout(timer));
  secure.once('close', () => clearTimeout(timer));
  return secure;
}

export class Connection {
  readonly session: Session;
  private transport: net.Socket;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queue: Promise<void> = Promise.resolve();
  private outstanding = 0;
  private closed = false;
  /** Session.gone: fired once the client cannot get an answer any more. */
  private readonly ended = new AbortController();
  private throttled = false;
  private partialTimer: NodeJS.Timeout | undefined;
  /** Waiting for the PROXY protocol header that a proxy listener requires first. */
  private proxyPending: boolean;
  private proxyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly raw: net.Socket,
    session: Session,
    private readonly ctx: BridgeContext,
    private readonly limits: ConnectionLimits,
    private readonly secureContext: () => tls.SecureContext | undefined,
    onClose: () => void,
    /** On a PROXY protocol listener: counts the client address its header gives (false: that
     * address has its share of connections, and this one is closed). */
    private readonly admitClient?: (address: string) => boolean,
  ) {
    this.session = session;
    session.gone = this.ended.signal;
    this.proxyPending = admitClient !== undefined;
    if (this.proxyPending) {
      this.proxyTimer = setTimeout(() => raw.destroy(), limits.handshakeTimeoutMs);
      this.proxyTimer.unref();
    }
    this.transport = raw;
    raw.setNoDelay(true); // without it a search's entries and its result wait on Nagle (~40 ms)
    raw.setTimeout(limits.idleTimeoutMs);
    raw.on('timeout', () => {
      ctx.log.debug({ conn: session.id, peer: session.peer }, 'idle connection closed');
      raw.destroy();
    });
    raw.on('error', () => raw.destroy());
    raw.on('close', () => {
      this.closed = true;
      clearTimeout(this.partialTimer);
      clearTimeout(this.proxyTimer);
      for (const r of session.running.values()) r.abandoned = true;
      this.ended.abort();
      onClose();
    });
    raw.on('data', this.onData);
  }

  /** Operations queued or running. */
  get busy(): boolean {
    return this.outstanding > 0;
  }

  destroy(): void {
    this.raw.destroy();
  }

  /** For ldaps:// listeners the socket is already a TLSSocket. */
  write = (b: Buffer): void => {
    if (this.closed || this.transport.destroyed) return;
    // Writes of one event-loop turn (a search's entries and its result, answers to pipelined
    // requests) leave in one syscall: cork on the first, uncork once the turn is over.
    if (!this.corked) {
      this.corked = true;
      this.transport.cork();
      setImmediate(this.uncork);
    }
    // A client that does not read its answers must not make us buffer them without bound:
    // past the socket's high-water mark, stop reading its requests until the answers drain.
    if (!this.transport.write(b) && !this.throttled) {
      this.throttled = true;
      this.raw.pause();
      this.transport.once('drain', () => {
        this.throttled = false;
        this.raw.resume();
      });
    }
  };

  private corked = false;
  private uncork = (): void => {
    this.corked = false;
    if (!this.transport.destroyed) this.transport.uncork();
  };

  /** Resolves when the socket has room again (queued operations wait for it before starting). */
  private drained = (): Promise<void> => {
    if (!this.throttled || this.transport.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.transport.off('drain', done);
        this.transport.off('close', done);
        resolve();
      };
      this.transport.once('drain', done);
      this.transport.once('close', done);
    });
  };

  /** Notice of Disconnection (RFC 4511 §4.4.1), then close. */
  disconnect(code: number, message: string): void {
    this.ctx.log.warn({ conn: this.session.id, peer: this.session.peer, code }, `closing connection: ${message}`);
    this.write(encodeDisconnect(code, message));
    this.closed = true;
    this.ended.abort();
    clearTimeout(this.partialTimer);
    this.transport.end();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => this.raw.destroy(), 2000).unref();
  }

  private onData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.proxyPending && !this.readProxyHeader()) return;
    for (;;) {
      let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      let len: number;
      try {
        len = frameLength(buf);
      } catch (e) {
        return this.disconnect(ResultCode.protocolError, (e as Error).message);
      }
      if (len > this.limits.maxMessageBytes || (len < 0 && this.pendingBytes > this.limits.maxMessageBytes)) {
        return this.disconnect(ResultCode.protocolError, `message larger than ${this.limits.maxMessageBytes} bytes`);
      }
      if (len < 0 || buf.length < len) {
        this.pending = [buf];
        // A message that started must finish in time (slow-loris protection).
        if (!this.partialTimer) {
          this.partialTimer = setTimeout(() => this.disconnect(ResultCode.protocolError, 'message not completed in time'), this.limits.messageTimeoutMs);
          this.partialTimer.unref();
        }
        return;
      }
      clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
      const frame = buf.subarray(0, len);
      buf = buf.subarray(len);
      this.pending = buf.length ? [buf] : [];
      this.pendingBytes = buf.length;
      if (!this.accept(frame)) return;
      if (this.pendingBytes === 0) return;
    }
  };

  /** Consumes the PROXY header; false while it is incomplete (or the connection was closed). */
  private readProxyHeader(): boolean {
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let h;
    try {
      h = parseProxyHeader(buf);
    } catch (e) {
      this.ctx.log.warn({ conn: this.session.id, peer: this.session.peer }, `closing connection: ${(e as Error).message}`);
      this.closed = true;
      this.raw.destroy();
      return false;
    }
    if (!h.done) {
      this.pending = [buf];
      return false;
    }
    clearTimeout(this.proxyTimer);
    this.proxyPending = false;
    if (!this.admitClient!(h.source?.address ?? this.session.address)) {
      this.disconnect(ResultCode.busy, 'too many connections from this address');
      return false;
    }
    if (h.source) {
      const via = this.session.peer;
      this.session.address = h.source.address;
      this.session.peer = `${h.source.address}:${h.source.port}`;
      this.ctx.log.debug({ conn: this.session.id, peer: this.session.peer, via }, 'PROXY protocol: client address from the load balancer');
    }
    const rest = buf.subarray(h.length);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return rest.length > 0;
  }

  /** Handles one complete message; false when the connection is finished. */
  private accept(frame: Buffer): boolean {
    const session = this.session;
    let msg: Message;
    try {
      msg = decodeMessage(frame, { maxDepth: this.limits.filterMaxDepth, maxElements: this.limits.filterMaxElements });
    } catch (e) {
      const pe = e as ProtocolError;
      if (pe.id !== undefined && pe.responseTag !== undefined) this.write(encodeResult(pe.id, pe.responseTag, { code: ResultCode.protocolError, message: pe.message }));
      this.disconnect(ResultCode.protocolError, `malformed message: ${pe.message}`);
      return false;
    }
    const req = msg.request;
    const op = operationOf(req);
    if (op.runs === 'at once') {
      if (op.now(this.ctx, session, req)) return true;
      // Unbind: the operations still queued have no one to answer (RFC 4511 §4.3).
      this.closed = true;
      this.ended.abort();
      this.transport.end();
      return false;
    }
    const tag = op.tag;
    if (this.outstanding >= this.limits.maxOutstandingPerConnection) {
      this.write(encodeResult(msg.id, tag, { code: ResultCode.busy, message: 'too many operations outstanding on this connection' }));
      return true;
    }
    if (req.op === 'extended' && req.oid === STARTTLS) {
      this.startTls(msg);
      // Nothing may follow a StartTLS request before the TLS handshake (RFC 4511 §4.14.1).
      return false;
    }
    if (op.abandonable) session.running.set(msg.id, { abandoned: false, entries: 0 });
    this.outstanding++;
    this.queue = this.queue
      .then(this.drained)
      .then(() => dispatch(this.ctx, session, msg, this.write, this.drained))
      .catch((e) => {
        this.ctx.log.error({ conn: session.id, err: { message: (e as Error).message, stack: (e as Error).stack } }, 'operation failed');
        this.write(encodeResult(msg.id, tag, { code: ResultCode.operationsError, message: 'internal error' }));
      })
      .finally(() => {
        this.outstanding--;
      });
    return true;
  }

  private startTls(msg: Message): void {
    const log = this.ctx.log;
    const base = { conn: this.session.id, peer: this.session.peer, msgid: msg.id, op: 'extended', oid: STARTTLS };
    const refuse = (code: number, message: string) => {
      this.write(encodeExtendedResult(msg.id, { code, message }, STARTTLS));
      log.info({ ...base, result: code }, 'starttls refused');
      // Go on reading plain LDAP.
      if (this.pendingBytes > 0) setImmediate(() => this.onData(Buffer.alloc(0)));
    };
    const ctx = this.secureContext();
    if (!ctx) return refuse(ResultCode.unavailable, 'TLS is not configured on this server');
    if (this.session.tls) return refuse(ResultCode.operationsError, 'TLS is already established');
    if (this.outstanding > 0 || this.pendingBytes > 0) return refuse(ResultCode.operationsError, 'operations are outstanding');
    // Stop reading plain LDAP: the next bytes are the TLS handshake.
    this.raw.off('data', this.onData);
    this.raw.pause();
    this.write(encodeExtendedResult(msg.id, { code: ResultCode.success }, STARTTLS));
    // The answer must leave in the clear now, before TLS takes the socket over.
    if (this.corked) this.uncork();
    const secure = serverTlsSocket(this.raw, ctx, this.limits.handshakeTimeoutMs);
    secure.on('error', () => this.raw.destroy());
    secure.on('secure', () => {
      this.session.tls = true;
      log.info({ ...base, result: ResultCode.success }, 'starttls');
    });
    secure.on('data', this.onData);
    this.transport = secure;
    this.raw.resume();
  }
}
