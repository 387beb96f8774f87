// Simple Paged Results (RFC 2696): the control as it travels, the cursors a connection keeps
// between the pages of a search (by cookie), and the next page read ahead while the client
// takes in the current one. Where a search stops and resumes inside its phases is the
// search's business (ops/search.ts); here a position is only carried.
import { randomBytes } from 'node:crypto';
import type { User } from '../directory/model.js';
import { BerReader, integer, octets, sequence } from './ber.js';
import type { Entry } from './entries.js';
import { filterToString } from './filter.js';
import { ResultCode, type Control, type RequestOf, type Result } from './protocol.js';

export const PAGED_RESULTS = '1.2.840.113556.1.4.319';

/** realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }. */
export function decodePagedControl(value: Buffer | undefined): { size: number; cookie: Buffer } {
  if (!value) throw new Error('paged results control without a value');
  const seq = new BerReader(value).sequence(0x30);
  const size = seq.integer();
  const cookie = seq.bytes();
  if (size < 0) throw new Error('negative page size');
  return { size, cookie };
}

export function encodePagedControl(size: number, cookie: Buffer): Buffer {
  return sequence([integer(size), octets(cookie)]);
}

/** Where a search resumes: the phase, and the last id (or index) already done in it. */
export interface Position {
  phase: number;
  after: number;
}

/** A page of users with their entries built. */
export interface UserBatch {
  users: User[];
  entries: Entry[];
  more: boolean;
}

/** The next page of a paged export, read while the client takes in the current one: without
 * it the database and the bridge would take turns being idle at every page. At most a few
 * are held at once (each is a page of built entries), and one not claimed within
 * READ_AHEAD_MS is dropped. Its data is read one client round trip early; a page was never
 * a snapshot anyway. */
export interface ReadAhead {
  phase: number;
  after: number;
  take(): Promise<UserBatch> | undefined;
}

const READ_AHEAD_MAX = 8;
const READ_AHEAD_MS = 2_000;
let readAheadsHeld = 0;

/** Starts reading the page after `after` in `phase`; undefined when enough are held already. */
export function readAhead(phase: number, after: number, load: () => Promise<UserBatch>): ReadAhead | undefined {
  if (readAheadsHeld >= READ_AHEAD_MAX) return undefined;
  readAheadsHeld++;
  let batch: Promise<UserBatch> | undefined = load();
  batch.catch(() => {}); // a failure is reported to the page that claims it, if any does
  const release = () => {
    if (!batch) return undefined;
    clearTimeout(timer);
    readAheadsHeld--;
    const b = batch;
    batch = undefined;
    return b;
  };
  const timer = setTimeout(release, READ_AHEAD_MS);
  timer.unref();
  return { phase, after, take: release };
}

/** Where a paged search goes on: the position, the entries sent so far by all its pages,
 * and maybe the next page's users, already being read. */
export interface Resume {
  pos: Position;
  count: number;
  ahead?: ReadAhead;
}

/** RFC 2696 paging for one request: the page size, and where the previous page stopped. */
export interface Paging {
  size: number;
  resume?: Resume;
}

/** A connection's open paged searches by cookie (hex): what search each belongs to (`key`)
 * and where it goes on. */
export type Cursors = Map<string, { key: string; resume: Resume }>;

/** A connection keeps this many open cursors; the oldest goes first. */
const MAX_CURSORS = 16;

const MALFORMED: Result = Object.freeze({ code: ResultCode.protocolError, message: 'malformed paged results control' });
const UNKNOWN_COOKIE: Result = Object.freeze({ code: ResultCode.unwillingToPerform, message: 'unknown paged results cookie (or a different search)' });
const ABANDONED: Result = Object.freeze({ code: ResultCode.success });
const NO_COOKIE = Buffer.alloc(0);
/** The response control of a last page (and of a paged search abandoned with size 0). */
export const LAST_PAGE: readonly Control[] = Object.freeze([Object.freeze({ oid: PAGED_RESULTS, critical: false, value: encodePagedControl(0, NO_COOKIE) })]);

/** The request's paged results control, if it has one. */
export function pagedControl(controls: Control[]): Control | undefined {
  for (const c of controls) if (c.oid === PAGED_RESULTS) return c;
  return undefined;
}

/** A cursor serves only the search that opened it, asked again by the same identity. */
function cursorKey(req: RequestOf<'search'>, identity: object): string {
  return JSON.stringify([req.base, req.scope, filterToString(req.filter), req.attributes, req.typesOnly, identity]);
}

/**
 * What a search's paged results control asks for: a page to run (its cursor is taken off the
 * table), or an answer to send at once (a malformed control, an unknown cookie, or size 0,
 * which abandons the paged search: RFC 2696 §3). An answer with code success ends the paged
 * search: send it with LAST_PAGE.
 */
export function pagingOf(cursors: Cursors, control: Control, req: RequestOf<'search'>, identity: object): Paging | Result {
  let parsed;
  try {
    parsed = decodePagedControl(control.value);
  } catch {
    return MALFORMED;
  }
  let resume: Resume | undefined;
  if (parsed.cookie.length) {
    const cookie = parsed.cookie.toString('hex');
    const prev = cursors.get(cookie);
    if (!prev || prev.key !== cursorKey(req, identity)) return UNKNOWN_COOKIE;
    cursors.delete(cookie);
    resume = prev.resume;
  }
  if (parsed.size === 0) return ABANDONED;
  return { size: parsed.size, resume };
}

export function isPaging(p: Paging | Result): p is Paging {
  return (p as Paging).size !== undefined;
}

/** The paged results control of a page's answer: a new cookie when more follows (its cursor
 * is kept on the table), else LAST_PAGE. */
export function pagedResponse(cursors: Cursors, req: RequestOf<'search'>, identity: object, resume: Resume | undefined): readonly Control[] {
  if (!resume) return LAST_PAGE;
  const cookie = randomBytes(12);
  if (cursors.size >= MAX_CURSORS) cursors.delete(cursors.keys().next().value as string);
  cursors.set(cookie.toString('hex'), { key: cursorKey(req, identity), resume });
  return [{ oid: PAGED_RESULTS, critical: false, value: encodePagedControl(0, cookie) }];
}
