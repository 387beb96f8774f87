// The LDAP operations, one entry each (as slapd's BackendInfo lists a backend's handlers): who
// may run it, its handler, how its answer is written, and its log line. The connection queues
// most operations and dispatch() runs them in order; Abandon and Unbind it carries out at
// once. A store that cannot answer is answered here, once for every operation: `unavailable`
// (52), the connection staying as it was.
//
// Hot path (every bind, search and compare passes here): the entries, their refusals and the
// shared answers are made once, at load; an operation allocates only what its handler needs
// (a search: its two callbacks), and a log line's fields only when its level is on.
//
// What is logged at the default level (info): every bind (the audit line: who, from where
// (the connection's peer), the outcome; failures at warn), extended operations and refused
// writes (rare, and worth seeing), and a search asking for userPassword (once per connection:
// the client expects hashes it will never get). Searches, compares and unbinds are logged at debug: Apache
// sends a search and a compare with every uncached request, as the service account, so at info
// they would make most of the log and most of its cost while saying nothing about who logged
// in that the bind line does not.
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../directory/store.js';
import type { BridgeContext, Session } from './context.js';
import { filterToString } from './filter.js';
import { isPaging, LAST_PAGE, pagedControl, pagedResponse, pagingOf, PAGED_RESULTS, type Paging } from './paging.js';
import { encodeEntry, encodeExtendedResult, encodeResult, RESPONSE_TAG, ResultCode, type Message, type Request, type RequestOf, type Result } from './protocol.js';
import { bind, type BindResult } from './ops/bind.js';
import { anyone, compareAccess, searchAccess } from './ops/access.js';
import { compare } from './ops/compare.js';
import { extended, type ExtendedResult } from './ops/extended.js';
import { PASSWORD_MODIFY, passwordModify } from './ops/password-modify.js';
import { ABANDONED, search, type SearchOutcome } from './ops/search.js';
import type { Entry, Selection } from './entries.js';
import { attributeKey } from './schema.js';

type Write = (b: Buffer) => void;
type Drained = () => Promise<void>;

/** An operation the connection queues and dispatch() runs. */
export interface QueuedOperation<Q extends Request, R extends Result> {
  readonly runs: 'queued';
  /** The response's protocolOp tag. */
  readonly tag: number;
  /** The critical controls it understands; any other fails it (RFC 4511 §4.1.11). */
  readonly criticalControls: readonly string[];
  /** Kept in session.running from the moment it is read, so that an Abandon reaches it. */
  readonly abandonable: boolean;
  /** Who may run it: undefined, or the refusal to answer. */
  access(ctx: BridgeContext, session: Session, req: Q): Result | undefined;
  /** Runs it, writing what comes before its result (a search's entries). Undefined: it
   * answered already, refusing the request before it ran (such answers are not logged). */
  run(ctx: BridgeContext, session: Session, msg: Message, req: Q, write: Write, drained: Drained): Promise<R | undefined>;
  /** Its result when the store cannot answer. */
  readonly unavailable: R;
  /** Writes its result. */
  answer(session: Session, msg: Message, req: Q, r: R, write: Write): void;
  /** Its log line, and counters of its own. */
  record(ctx: BridgeContext, log: Logger, session: Session, msg: Message, req: Q, r: R, ms: number): void;
}

/** An operation the connection carries out at once, ahead of its queue: an Abandon must reach
 * a search still waiting, and an Unbind ends the connection. Anyone may run them. */
export interface ImmediateOperation<Q extends Request> {
  readonly runs: 'at once';
  /** Carries it out; false: the connection ends. */
  now(ctx: BridgeContext, session: Session, req: Q): boolean;
}

export type Operation<Q extends Request = Request> = QueuedOperation<Q, Result> | ImmediateOperation<Q>;

const UNAVAILABLE: Result = Object.freeze({ code: ResultCode.unavailable, message: 'the user database is unavailable' });
/** What run() resolves to when it answered already. */
const ANSWERED: Promise<undefined> = Promise.resolve(undefined);

/** Client-supplied strings in log lines are cut to this many characters: a 250 KB DN must
 * not make a 250 KB line. */
export const LOG_TEXT_CHARS = 256;

/** `s`, or its start, a marker and its original length when it is longer than LOG_TEXT_CHARS. */
export function clipForLog(s: string): string {
  return s.length <= LOG_TEXT_CHARS ? s : `${s.slice(0, LOG_TEXT_CHARS)}…[${s.length} chars]`;
}

/** The same array when no string needs clipping (the usual case allocates nothing). */
function clipAllForLog(list: string[]): string[] {
  return list.some((s) => s.length > LOG_TEXT_CHARS) ? list.map(clipForLog) : list;
}

function answerWith(tag: number) {
  return (_session: Session, msg: Message, _req: Request, r: Result, write: Write): void => write(encodeResult(msg.id, tag, r));
}

const BIND: QueuedOperation<RequestOf<'bind'>, BindResult> = {
  runs: 'queued',
  tag: RESPONSE_TAG.bind,
  criticalControls: [],
  abandonable: false,
  access: anyone,
  run: (ctx, session, _msg, req) => bind(ctx, session, req),
  unavailable: Object.freeze({ ...UNAVAILABLE, outcome: 'unavailable' }),
  answer: answerWith(RESPONSE_TAG.bind),
  record(ctx, log, _session, msg, req, r, ms) {
    ctx.metrics.bind(r.outcome, r.cached);
    const level = r.outcome === 'success' || r.outcome === 'anonymous' ? 'info' : 'warn';
    if (log.isLevelEnabled(level)) log[level]({ msgid: msg.id, op: 'bind', dn: clipForLog(req.name), result: r.code, outcome: r.outcome, cached: r.cached, ms }, r.outcome === 'locked-out' ? 'bind refused: locked out after repeated failures' : r.outcome === 'dropped' ? 'bind dropped unhashed: the client hung up or unbound' : 'bind');
  },
};

/** userPassword, by name (any options) or OID: what a client asks for when it means to check
 * passwords itself (a "password attribute" setting, a password-lookup mode, a configuration
 * copied from an OpenLDAP site). */
const asksForHashes = (a: string): boolean => attributeKey(a) === 'userpassword' || a === '2.5.4.35';

/** One warning per connection (pooled clients keep theirs open, so it is not one per search):
 * the client will never get a hash and must authenticate users by binding as them. The line
 * names the attribute and who asked, never a value. */
function tellNoHashes(ctx: BridgeContext, session: Session): void {
  session.toldNoHashes = true;
  const log = (session.log ??= ctx.log.child({ conn: session.id, peer: session.peer }));
  if (log.isLevelEnabled('warn')) {
    const id = session.identity;
    log.warn({ op: 'search', attr: 'userPassword', bound: id.kind === 'anonymous' ? '' : clipForLog(id.dn) }, 'a client asked for userPassword: the bridge serves no password hashes; configure it to authenticate users by binding as them (bind authentication)');
  }
}

const SEARCH: QueuedOperation<RequestOf<'search'>, SearchOutcome> = {
  runs: 'queued',
  tag: RESPONSE_TAG.search,
  criticalControls: [PAGED_RESULTS],
  abandonable: true,
  access: searchAccess,
  run(ctx, session, msg, req, write, drained) {
    if (req.attributes.length > ctx.config.limits.maxRequestedAttributes) {
      write(encodeResult(msg.id, RESPONSE_TAG.search, { code: ResultCode.adminLimitExceeded, message: `more than ${ctx.config.limits.maxRequestedAttributes} attributes requested` }));
      return ANSWERED;
    }
    let paging: Paging | undefined;
    const control = pagedControl(msg.controls);
    if (control) {
      const p = pagingOf(session.paged, control, req, session.identity);
      if (!isPaging(p)) {
        write(encodeResult(msg.id, RESPONSE_TAG.search, p, [], p.code === ResultCode.success ? LAST_PAGE : undefined));
        return ANSWERED;
      }
      paging = p;
    }
    if (!session.toldNoHashes && req.attributes.some(asksForHashes)) tellNoHashes(ctx, session);
    // The connection registers a search when it reads it; one dispatched directly, here.
    let state = session.running.get(msg.id);
    if (!state) session.running.set(msg.id, (state = { abandoned: false, entries: 0 }));
    const running = state;
    const send = (e: Entry, sel: Selection) => {
      running.entries++;
      write(encodeEntry(msg.id, e.dn, e.select(sel), req.typesOnly));
    };
    return search(ctx, session, req, send, () => running.abandoned, paging, drained);
  },
  unavailable: UNAVAILABLE,
  answer(session, msg, req, r, write) {
    if (r.code === ABANDONED) return;
    write(encodeResult(msg.id, RESPONSE_TAG.search, r, [], pagedControl(msg.controls) ? pagedResponse(session.paged, req, session.identity, r.resume) : undefined));
  },
  record(_ctx, log, session, msg, req, r, ms) {
    if (!log.isLevelEnabled('debug')) return;
    const entries = session.running.get(msg.id)?.entries ?? 0;
    log.debug({ msgid: msg.id, op: 'search', dn: clipForLog(req.base), scope: req.scope, filter: clipForLog(filterToString(req.filter)), attrs: clipAllForLog(req.attributes), result: r.code, entries, ms }, 'search');
  },
};

const COMPARE: QueuedOperation<RequestOf<'compare'>, Result> = {
  runs: 'queued',
  tag: RESPONSE_TAG.compare,
  criticalControls: [],
  abandonable: false,
  access: compareAccess,
  run: (ctx, _session, _msg, req) => compare(ctx, req),
  unavailable: UNAVAILABLE,
  answer: answerWith(RESPONSE_TAG.compare),
  record(_ctx, log, _session, msg, req, r, ms) {
    if (log.isLevelEnabled('debug')) log.debug({ msgid: msg.id, op: 'compare', dn: clipForLog(req.entry), attr: clipForLog(req.attribute), result: r.code, ms }, 'compare');
  },
};

const EXTENDED: QueuedOperation<RequestOf<'extended'>, ExtendedResult> = {
  runs: 'queued',
  tag: RESPONSE_TAG.extended,
  criticalControls: [],
  abandonable: false,
  access: anyone,
  run: (ctx, session, _msg, req) => (req.oid === PASSWORD_MODIFY ? passwordModify(ctx, session, req) : Promise.resolve(extended(session, req))),
  unavailable: UNAVAILABLE,
  answer(_session, msg, _req, r, write) {
    write(encodeExtendedResult(msg.id, r, r.name, r.value));
  },
  record(_ctx, log, _session, msg, req, r, ms) {
    // Never the request or response value: a Password Modify carries passwords.
    if (log.isLevelEnabled('info')) log.info({ msgid: msg.id, op: 'extended', oid: clipForLog(req.oid), result: r.code, ...(r.target === undefined ? {} : { target: clipForLog(r.target), message: r.message }), ms }, 'extended');
  },
};

type WriteOp = 'add' | 'modify' | 'delete' | 'modifyDN';
const READ_ONLY: Promise<Result> = Promise.resolve(Object.freeze({ code: ResultCode.unwillingToPerform, message: 'the directory is read-only: change users and groups in Django' }));

/** Add, modify, delete and modifyDN: the directory is Django's, changed in Django. */
function refusedWrite(op: WriteOp): QueuedOperation<RequestOf<WriteOp>, Result> {
  return {
    runs: 'queued',
    tag: RESPONSE_TAG[op],
    criticalControls: [],
    abandonable: false,
    access: anyone,
    run: () => READ_ONLY,
    unavailable: UNAVAILABLE,
    answer: answerWith(RESPONSE_TAG[op]),
    record(_ctx, log, _session, msg, req, r, ms) {
      if (log.isLevelEnabled('info')) log.info({ msgid: msg.id, op, dn: clipForLog(req.entry), result: r.code, ms }, op);
    },
  };
}

// A bind cannot be abandoned (RFC 4511 §4.11): only closing the connection or unbinding drops
// a queued one (Session.gone).
const ABANDON: ImmediateOperation<RequestOf<'abandon'>> = {
  runs: 'at once',
  now(_ctx, session, req) {
    const r = session.running.get(req.id);
    if (r) r.abandoned = true;
    return true;
  },
};

const UNBIND: ImmediateOperation<RequestOf<'unbind'>> = {
  runs: 'at once',
  now(ctx, session) {
    if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ conn: session.id, peer: session.peer, op: 'unbind' }, 'unbind');
    return false;
  },
};

export const OPERATIONS: { readonly [K in Request['op']]: QueuedOperation<RequestOf<K>, Result> | ImmediateOperation<RequestOf<K>> } = {
  bind: BIND,
  search: SEARCH,
  compare: COMPARE,
  extended: EXTENDED,
  add: refusedWrite('add'),
  modify: refusedWrite('modify'),
  delete: refusedWrite('delete'),
  modifyDN: refusedWrite('modifyDN'),
  abandon: ABANDON,
  unbind: UNBIND,
};

/** The entry for a request (each entry takes the requests of its own kind). */
export function operationOf(req: Request): Operation {
  return OPERATIONS[req.op] as Operation;
}

/** The one answer to a store that cannot answer; any other failure is not ours to answer. */
function storeFailure<R extends Result>(e: unknown, op: { readonly unavailable: R }): R {
  if (e instanceof StoreUnavailableError) return op.unavailable;
  throw e;
}

function unknownCritical(op: QueuedOperation<Request, Result>, msg: Message): string | undefined {
  for (const c of msg.controls) if (c.critical && !op.criticalControls.includes(c.oid)) return c.oid;
  return undefined;
}

/** Runs one queued operation: its access rule, its handler, its answer, its log line. */
export async function dispatch(ctx: BridgeContext, session: Session, msg: Message, write: Write, drained: Drained): Promise<void> {
  const req = msg.request;
  const op = operationOf(req);
  if (op.runs !== 'queued') return;
  try {
    const critical = unknownCritical(op, msg);
    if (critical !== undefined) {
      write(encodeResult(msg.id, op.tag, { code: ResultCode.unavailableCriticalExtension, message: `unsupported critical control ${clipForLog(critical)}` }));
      return;
    }
    const started = performance.now();
    let r = op.access(ctx, session, req);
    if (r === undefined) {
      try {
        r = await op.run(ctx, session, msg, req, write, drained);
      } catch (e) {
        r = storeFailure(e, op);
      }
      if (r === undefined) return;
    }
    op.answer(session, msg, req, r, write);
    // Whole microseconds: a log line's `ms` is "0.098", not "0.09787599999981467" (shorter to
    // write and to read; the metrics histogram gets the same figure).
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    ctx.metrics.op(req.op, r.code, ms / 1000);
    // One child logger per connection: conn and peer are serialised once, not per line.
    op.record(ctx, (session.log ??= ctx.log.child({ conn: session.id, peer: session.peer })), session, msg, req, r, ms);
  } finally {
    if (op.abandonable) session.running.delete(msg.id);
  }
}

/** A search as dispatch() runs one (its access rule, a store that cannot answer answered the
 * same), for callers without a connection: the `search` command. */
export async function dispatchSearch(
  ctx: BridgeContext,
  session: Session,
  req: RequestOf<'search'>,
  send: (e: Entry, sel: Selection) => void,
  isAbandoned: () => boolean,
): Promise<SearchOutcome> {
  const refused = SEARCH.access(ctx, session, req);
  if (refused) return refused;
  try {
    return await search(ctx, session, req, send, isAbandoned);
  } catch (e) {
    return storeFailure(e, SEARCH);
  }
}
