// A strict, bounded BER reader and a small TLV writer for LDAP (RFC 4511 §5.1).
//
// Why not @ldapjs/asn1's BerReader: it returns null on truncated input instead of failing,
// does not keep reads inside the enclosing SEQUENCE, and is shared with ldapjs's message
// classes that re-parse DNs and filters lossily. Every read here is bounded by the element
// that contains it, so a hostile length can never make us read past a message or allocate.

export class BerError extends Error {}

/** Reads one constructed element's contents; child readers are views, never copies. */
export class BerReader {
  private pos: number;
  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next element's tag, without consuming it (undefined at the end). */
  peek(): number | undefined {
    return this.pos < this.end ? this.buf[this.pos] : undefined;
  }

  /** Reads tag + length; returns [tag, contentStart, contentEnd] and moves past the element. */
  private element(expected?: number): [number, number, number] {
    if (this.pos >= this.end) throw new BerError('unexpected end of element');
    const tag = this.buf[this.pos];
    if ((tag & 0x1f) === 0x1f) throw new BerError('multi-byte tags are not used by LDAP');
    if (expected !== undefined && tag !== expected) {
      throw new BerError(`expected tag 0x${expected.toString(16)}, found 0x${tag.toString(16)}`);
    }
    let p = this.pos + 1;
    if (p >= this.end) throw new BerError('truncated length');
    let len = this.buf[p++];
    if (len & 0x80) {
      const n = len & 0x7f;
      // RFC 4511 §5.1: definite form only; four length octets are more than any message we accept.
      if (n === 0) throw new BerError('indefinite length is not allowed in LDAP');
      if (n > 4) throw new BerError('length field too long');
      if (p + n > this.end) throw new BerError('truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + this.buf[p++];
    }
    if (p + len > this.end) throw new BerError('element longer than its container');
    this.pos = p + len;
    return [tag, p, p + len];
  }

  /** Enters a constructed element (SEQUENCE, SET, or an application/context tag). */
  sequence(expected?: number): BerReader {
    const [, s, e] = this.element(expected);
    return new BerReader(this.buf, s, e);
  }

  /** Reads any element and returns its tag and a reader over its contents. */
  any(): { tag: number; body: BerReader; raw: Buffer } {
    const start = this.pos;
    const [tag, s, e] = this.element();
    return { tag, body: new BerReader(this.buf, s, e), raw: this.buf.subarray(start, e) };
  }

  bytes(expected = 0x04): Buffer {
    const [, s, e] = this.element(expected);
    return this.buf.subarray(s, e);
  }

  string(expected = 0x04): string {
    const [, s, e] = this.element(expected);
    return this.buf.toString('utf8', s, e);
  }

  /** The rest of this element's contents (for primitive context tags read via any()). */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  integer(expected = 0x02): number {
    const [, s, e] = this.element(expected);
    if (e === s) throw new BerError('empty integer');
    if (e - s > 6) throw new BerError('integer too large');
    let v = this.buf[s] & 0x80 ? -1 : 0;
    for (let i = s; i < e; i++) v = v * 256 + this.buf[i];
    return v;
  }

  enumerated(): number {
    return this.integer(0x0a);
  }

  boolean(expected = 0x01): boolean {
    const [, s, e] = this.element(expected);
    if (e - s !== 1) throw new BerError('boolean must be one octet');
    return this.buf[s] !== 0;
  }
}

// ---- Writer: responses are built bottom-up as TLVs, so no length needs patching later. ----

function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x100) return Buffer.from([0x81, len]);
  if (len < 0x10000) return Buffer.from([0x82, len >> 8, len & 0xff]);
  if (len < 0x1000000) return Buffer.from([0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.from([0x84, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

export function tlv(tag: number, content: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(content) ? Buffer.concat(content) : content;
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export function octets(value: string | Buffer, tag = 0x04): Buffer {
  return tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function integer(value: number, tag = 0x02): Buffer {
  // Two's complement, minimal length.
  const out: number[] = [];
  let v = value;
  do {
    out.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (value >= 0 ? v !== 0 || (out[0] & 0x80) !== 0 : v !== -1 || (out[0] & 0x80) === 0);
  return tlv(tag, Buffer.from(out));
}

export function enumerated(value: number): Buffer {
  return integer(value, 0x0a);
}

export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

export function sequence(items: Buffer[], tag = 0x30): Buffer {
  return tlv(tag, items);
}
