// LDAPMessage decoding and response encoding (RFC 4511 §4). Requests become plain typed
// objects; DNs and values stay exactly as the client sent them (our DN code parses them).
import { BerError, BerReader, boolean, enumerated, integer, octets, sequence, tlv } from './ber.js';
import { readFilter, type Filter, type FilterLimits } from './filter.js';

export interface Control {
  oid: string;
  critical: boolean;
  value?: Buffer;
}

export type Request =
  | { op: 'bind'; version: number; name: string; simple: true; password: Buffer }
  | { op: 'bind'; version: number; name: string; simple: false; mechanism: string }
  | { op: 'unbind' }
  | { op: 'search'; base: string; scope: 0 | 1 | 2; deref: number; sizeLimit: number; timeLimit: number; typesOnly: boolean; filter: Filter; attributes: string[] }
  | { op: 'compare'; entry: string; attribute: string; value: string }
  | { op: 'extended'; oid: string; value?: Buffer }
  | { op: 'abandon'; id: number }
  | { op: 'add' | 'modify' | 'delete' | 'modifyDN'; entry: string };

/** The request of one kind of operation, e.g. RequestOf<'search'>. */
export type RequestOf<K extends Request['op']> = Extract<Request, { op: K }>;

export interface Message {
  id: number;
  request: Request;
  controls: Control[];
}

/** Response protocolOp tags, by request. */
export const RESPONSE_TAG = {
  bind: 0x61,
  search: 0x65,
  modify: 0x67,
  add: 0x69,
  delete: 0x6b,
  modifyDN: 0x6d,
  compare: 0x6f,
  extended: 0x78,
} as const;

/** A malformed message; `id` is set when the message id could be read. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly id?: number,
    readonly responseTag?: number,
  ) {
    super(message);
  }
}

/** Total length of the first BER element in `buf`, or -1 when more bytes are needed. */
export function frameLength(buf: Buffer): number {
  if (buf.length < 2) return -1;
  if (buf[0] !== 0x30) throw new ProtocolError('message is not an LDAPMessage SEQUENCE');
  const l = buf[1];
  if (!(l & 0x80)) return 2 + l;
  const n = l & 0x7f;
  if (n === 0 || n > 4) throw new ProtocolError('bad message length');
  if (buf.length < 2 + n) return -1;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i];
  return 2 + n + len;
}

export function decodeMessage(frame: Buffer, limits: FilterLimits): Message {
  let id: number | undefined;
  let tag: number | undefined;
  try {
    const msg = new BerReader(frame).sequence(0x30);
    const rawId = msg.integer();
    // RFC 4511 §4.1.1.1: a request's messageID is non-zero (0 is for unsolicited notifications).
    if (rawId < 1 || rawId > 2147483647) throw new BerError('messageID must be between 1 and 2147483647');
    id = rawId;
    const op = msg.any();
    tag = op.tag;
    const b = op.body;
    let request: Request;
    switch (op.tag) {
      case 0x60: {
        const version = b.integer();
        const name = b.string();
        const auth = b.any();
        if (auth.tag === 0x80) request = { op: 'bind', version, name, simple: true, password: auth.body.rest() };
        else if (auth.tag === 0xa3) request = { op: 'bind', version, name, simple: false, mechanism: auth.body.string() };
        else throw new BerError('unknown authentication choice');
        break;
      }
      case 0x42:
        request = { op: 'unbind' };
        break;
      case 0x63: {
        const base = b.string();
        const scope = b.enumerated();
        if (scope < 0 || scope > 2) throw new BerError('bad search scope');
        const deref = b.enumerated();
        const sizeLimit = b.integer();
        const timeLimit = b.integer();
        const typesOnly = b.boolean();
        const filter = readFilter(b, limits);
        const attrs = b.sequence(0x30);
        const attributes: string[] = [];
        while (!attrs.done) attributes.push(attrs.string());
        request = { op: 'search', base, scope: scope as 0 | 1 | 2, deref, sizeLimit: Math.max(0, sizeLimit), timeLimit: Math.max(0, timeLimit), typesOnly, filter, attributes };
        break;
      }
      case 0x6e: {
        const entry = b.string();
        const ava = b.sequence(0x30);
        request = { op: 'compare', entry, attribute: ava.string(), value: ava.string() };
        break;
      }
      case 0x77: {
        const oid = b.string(0x80);
        const value = b.done ? undefined : b.bytes(0x81);
        request = { op: 'extended', oid, value };
        break;
      }
      case 0x50: {
        let v = 0;
        for (const x of b.rest()) v = v * 256 + x;
        request = { op: 'abandon', id: v };
        break;
      }
      case 0x66:
        request = { op: 'modify', entry: b.string() };
        break;
      case 0x68:
        request = { op: 'add', entry: b.string() };
        break;
      case 0x4a:
        request = { op: 'delete', entry: b.rest().toString('utf8') };
        break;
      case 0x6c:
        request = { op: 'modifyDN', entry: b.string() };
        break;
      default:
        throw new BerError(`unknown protocol operation 0x${op.tag.toString(16)}`);
    }
    const controls: Control[] = [];
    if (!msg.done) {
      const cs = msg.sequence(0xa0);
      while (!cs.done) {
        const c = cs.sequence(0x30);
        const oid = c.string();
        let critical = false;
        let value: Buffer | undefined;
        if (c.peek() === 0x01) critical = c.boolean();
        if (c.peek() === 0x04) value = c.bytes();
        controls.push({ oid, critical, value });
      }
    }
    return { id, request, controls };
  } catch (e) {
    const responseTag = tag === undefined ? undefined : RESPONSE_FOR_REQUEST[tag];
    throw new ProtocolError((e as Error).message, id, responseTag);
  }
}

const RESPONSE_FOR_REQUEST: Record<number, number | undefined> = {
  0x60: 0x61,
  0x63: 0x65,
  0x66: 0x67,
  0x68: 0x69,
  0x4a: 0x6b,
  0x6c: 0x6d,
  0x6e: 0x6f,
  0x77: 0x78,
};

// ---------------------------------------------------------------- responses

export const ResultCode = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  timeLimitExceeded: 3,
  sizeLimitExceeded: 4,
  compareFalse: 5,
  compareTrue: 6,
  authMethodNotSupported: 7,
  strongerAuthRequired: 8,
  adminLimitExceeded: 11,
  unavailableCriticalExtension: 12,
  confidentialityRequired: 13,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  constraintViolation: 19,
  noSuchObject: 32,
  invalidDNSyntax: 34,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  other: 80,
} as const;

export interface Result {
  code: number;
  matchedDN?: string;
  message?: string;
}

function envelope(id: number, op: Buffer, controls?: Buffer): Buffer {
  return sequence(controls ? [integer(id), op, controls] : [integer(id), op]);
}

function resultParts(r: Result): Buffer[] {
  return [enumerated(r.code), octets(r.matchedDN ?? ''), octets(r.message ?? '')];
}

export function encodeResult(id: number, tag: number, r: Result, extra: Buffer[] = [], controls?: readonly Control[]): Buffer {
  if (extra.length === 0 && !controls?.length) return encodePlainResult(id, tag, r.code, r.matchedDN ?? '', r.message ?? '');
  return envelope(id, tlv(tag, [...resultParts(r), ...extra]), controls?.length ? encodeControls(controls) : undefined);
}

/** Octets of a non-negative INTEGER/ENUMERATED value in minimal two's complement. */
function uintLen(v: number): number {
  let n = 1;
  while (v >= 0x80 * 2 ** (8 * (n - 1))) n++;
  return n;
}
function putUint(buf: Buffer, off: number, tag: number, v: number, n: number): number {
  buf[off++] = tag;
  buf[off++] = n;
  for (let i = n - 1; i >= 0; i--) buf[off++] = Math.floor(v / 2 ** (8 * i)) & 0xff;
  return off;
}

/** An LDAPResult with no extra fields or controls (every bind, compare and most search ends),
 * written in one pass into one buffer: the same bytes as the general path. */
function encodePlainResult(id: number, tag: number, code: number, dn: string, message: string): Buffer {
  const dnLen = Buffer.byteLength(dn, 'utf8');
  const msgLen = Buffer.byteLength(message, 'utf8');
  const codeLen = uintLen(code);
  const opLen = 2 + codeLen + 1 + lenSize(dnLen) + dnLen + 1 + lenSize(msgLen) + msgLen;
  const idLen = uintLen(id);
  const total = 2 + idLen + 1 + lenSize(opLen) + opLen;
  const buf = Buffer.allocUnsafe(1 + lenSize(total) + total);
  let o = 0;
  buf[o++] = 0x30;
  o = putLen(buf, o, total);
  o = putUint(buf, o, 0x02, id, idLen);
  buf[o++] = tag;
  o = putLen(buf, o, opLen);
  o = putUint(buf, o, 0x0a, code, codeLen);
  buf[o++] = 0x04;
  o = putLen(buf, o, dnLen);
  o += buf.write(dn, o, 'utf8');
  buf[o++] = 0x04;
  o = putLen(buf, o, msgLen);
  buf.write(message, o, 'utf8');
  return buf;
}

export function encodeExtendedResult(id: number, r: Result, name?: string, value?: Buffer): Buffer {
  const extra: Buffer[] = [];
  if (name !== undefined) extra.push(octets(name, 0x8a));
  if (value !== undefined) extra.push(octets(value, 0x8b));
  return encodeResult(id, 0x78, r, extra);
}

const lenSize = (n: number): number => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5);

function putLen(buf: Buffer, off: number, n: number): number {
  if (n < 0x80) {
    buf[off] = n;
    return off + 1;
  }
  const k = lenSize(n) - 1;
  buf[off++] = 0x80 | k;
  for (let i = k - 1; i >= 0; i--) buf[off++] = (n >>> (8 * i)) & 0xff;
  return off;
}

/**
 * SearchResultEntry, written into one buffer sized in a first pass: the hot path of every
 * search sends these, and building them from nested TLV buffers cost most of a big search's
 * CPU in allocation and copying.
 */
export function encodeEntry(id: number, dn: string, attributes: Array<[string, string[]]>, typesOnly: boolean): Buffer {
  // Pass 1: byte lengths, bottom up.
  const valueLens: number[] = [];
  const typeLens: number[] = [];
  const setLens: number[] = [];
  const attrLens: number[] = [];
  let attrsLen = 0;
  for (const [name, values] of attributes) {
    const tl = Buffer.byteLength(name, 'utf8');
    let setLen = 0;
    if (!typesOnly) {
      for (const v of values) {
        const vl = Buffer.byteLength(v, 'utf8');
        valueLens.push(vl);
        setLen += 1 + lenSize(vl) + vl;
      }
    }
    const al = 1 + lenSize(tl) + tl + 1 + lenSize(setLen) + setLen;
    typeLens.push(tl);
    setLens.push(setLen);
    attrLens.push(al);
    attrsLen += 1 + lenSize(al) + al;
  }
  const dnLen = Buffer.byteLength(dn, 'utf8');
  const opLen = 1 + lenSize(dnLen) + dnLen + 1 + lenSize(attrsLen) + attrsLen;
  const idTlv = integer(id);
  const msgLen = idTlv.length + 1 + lenSize(opLen) + opLen;
  // Pass 2: write.
  const buf = Buffer.allocUnsafe(1 + lenSize(msgLen) + msgLen);
  let o = 0;
  buf[o++] = 0x30;
  o = putLen(buf, o, msgLen);
  o += idTlv.copy(buf, o);
  buf[o++] = 0x64;
  o = putLen(buf, o, opLen);
  buf[o++] = 0x04;
  o = putLen(buf, o, dnLen);
  o += buf.write(dn, o, 'utf8');
  buf[o++] = 0x30;
  o = putLen(buf, o, attrsLen);
  let vi = 0;
  for (let a = 0; a < attributes.length; a++) {
    const [name, values] = attributes[a];
    buf[o++] = 0x30;
    o = putLen(buf, o, attrLens[a]);
    buf[o++] = 0x04;
    o = putLen(buf, o, typeLens[a]);
    o += buf.write(name, o, 'utf8');
    buf[o++] = 0x31;
    o = putLen(buf, o, setLens[a]);
    if (!typesOnly) {
      for (const v of values) {
        const vl = valueLens[vi++];
        buf[o++] = 0x04;
        o = putLen(buf, o, vl);
        o += buf.write(v, o, 'utf8');
      }
    }
  }
  return buf;
}

function encodeControls(controls: readonly Control[]): Buffer {
  return tlv(
    0xa0,
    controls.map((c) => {
      const parts = [octets(c.oid)];
      if (c.critical) parts.push(boolean(true));
      if (c.value) parts.push(octets(c.value));
      return sequence(parts);
    }),
  );
}

/** Notice of Disconnection (RFC 4511 §4.4.1), sent before closing on a protocol error. */
export function encodeDisconnect(code: number, message: string): Buffer {
  return encodeExtendedResult(0, { code, message }, '1.3.6.1.4.1.1466.20036');
}
