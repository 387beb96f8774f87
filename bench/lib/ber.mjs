// Hand-encoded BER for the LDAP requests the load generator sends, and a frame parser for the
// responses it reads. Only what the benchmark needs (RFC 4511 §4): no ldapjs, so the client
// costs as little CPU as possible and the server is what gets measured.

function lengthBytes(n) {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.from([0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

export function tlv(tag, body) {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}
export const seq = (items, tag = 0x30) => tlv(tag, Buffer.concat(items));
export const str = (s, tag = 0x04) => tlv(tag, Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
export const bool = (b) => tlv(0x01, Buffer.from([b ? 0xff : 0]));
export function int(v, tag = 0x02) {
  const out = [];
  let x = v;
  do {
    out.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x !== 0 || (out[0] & 0x80) !== 0);
  return tlv(tag, Buffer.from(out));
}

// ---- filters (RFC 4511 §4.5.1.7)
export const fAnd = (items) => seq(items, 0xa0);
export const fPresent = (attr) => str(attr, 0x87);
export const fEq = (attr, value) => seq([str(attr), str(value)], 0xa3);

// ---- requests
export function message(id, op, controls) {
  return seq(controls ? [int(id), op, controls] : [int(id), op]);
}
export const bindRequest = (id, dn, password) => message(id, seq([int(3), str(dn), str(password, 0x80)], 0x60));
export const unbindRequest = (id) => message(id, Buffer.from([0x42, 0x00]));
export const compareRequest = (id, dn, attr, value) => message(id, seq([str(dn), seq([str(attr), str(value)])], 0x6e));
export function searchRequest(id, { base, scope = 2, deref = 3, sizeLimit = 0, timeLimit = 60, typesOnly = false, filter, attributes = [] }, controls) {
  const op = seq([str(base), int(scope, 0x0a), int(deref, 0x0a), int(sizeLimit), int(timeLimit), bool(typesOnly), filter, seq(attributes.map((a) => str(a)))], 0x63);
  return message(id, op, controls);
}
export const PAGED_RESULTS = '1.2.840.113556.1.4.319';
export function pagedControl(size, cookie = Buffer.alloc(0)) {
  return seq([seq([str(PAGED_RESULTS), str(seq([int(size), str(cookie)]))])], 0xa0);
}

// ---- responses (and, for bench/node-floor.mjs, requests)

/** Reads a tag and length at p: [tag, contentStart, contentEnd]. */
export function element(buf, p) {
  const tag = buf[p];
  let len = buf[p + 1];
  let q = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[q++];
  }
  return [tag, q, q + len];
}

function readInt(buf, s, e) {
  let v = buf[s] & 0x80 ? -1 : 0;
  for (let i = s; i < e; i++) v = v * 256 + buf[i];
  return v;
}

/**
 * Decodes one LDAPMessage frame into { id, tag, code?, dn?, cookie? }.
 * tag 0x64 = SearchResultEntry (dn set), 0x73 = reference; other response tags carry code.
 */
export function decodeResponse(frame) {
  const [, s0, e0] = element(frame, 0);
  const [, is, ie] = element(frame, s0);
  const id = readInt(frame, is, ie);
  const [tag, os, oe] = element(frame, ie);
  if (tag === 0x64) {
    const [, ds, de] = element(frame, os);
    return { id, tag, dn: frame.toString('utf8', ds, de) };
  }
  if (tag === 0x73) return { id, tag };
  const [, cs, ce] = element(frame, os);
  const code = readInt(frame, cs, ce);
  const out = { id, tag, code };
  if (oe < e0 && frame[oe] === 0xa0) {
    // controls: look for a paged results cookie
    let [, ps, pe] = element(frame, oe);
    while (ps < pe) {
      const [, cs2, ce2] = element(frame, ps);
      const [, oidS, oidE] = element(frame, cs2);
      if (frame.toString('latin1', oidS, oidE) === PAGED_RESULTS) {
        let q = oidE;
        if (frame[q] === 0x01) q = element(frame, q)[2]; // criticality
        const [, vs] = element(frame, q); // controlValue OCTET STRING
        const [, ss] = element(frame, vs); // SEQUENCE { size, cookie }
        const [, , sizeEnd] = element(frame, ss);
        const [, cks, cke] = element(frame, sizeEnd);
        out.cookie = frame.subarray(cks, cke);
      }
      ps = ce2;
    }
  }
  return out;
}

/** Splits a byte stream into complete LDAPMessage frames. */
export class FrameReader {
  constructor() {
    this.buf = Buffer.alloc(0);
  }
  /** Appends a chunk and returns the complete frames in it. */
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames = [];
    let p = 0;
    const b = this.buf;
    while (b.length - p >= 2) {
      let len = b[p + 1];
      let hdr = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        if (b.length - p < 2 + n) break;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + b[p + 2 + i];
        hdr = 2 + n;
      }
      if (b.length - p < hdr + len) break;
      frames.push(b.subarray(p, p + hdr + len));
      p += hdr + len;
    }
    this.buf = p === b.length ? Buffer.alloc(0) : b.subarray(p);
    return frames;
  }
}
