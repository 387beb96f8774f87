/**
 * RFC 4514 distinguished names: parsing, escaping, formatting and the
 * canonical form used to compare DNs.
 *
 * We carry our own implementation instead of using `@ldapjs/dn` because that
 * package trims the *decoded* value (so `cn=\20x\20` becomes `x`), does not
 * escape `\` when formatting (so `back\slash` does not survive a round trip),
 * and decodes hex escapes with a lenient `parseInt` that silently accepts junk
 * (`\4g` -> U+0004, `\zz` -> `zz`) and swallows characters after a dangling
 * UTF-8 lead byte (`\C3abc` -> `ü`).
 *
 * Design notes:
 *  - Parsing is one left-to-right pass over the UTF-16 string using
 *    `charCodeAt`; no regular expressions. A value without escapes costs one
 *    `slice`; escapes only cost string concatenation of the decoded pieces.
 *  - Hex escapes (`\C3\A9`) are UTF-8 octets. A run of consecutive hex pairs is
 *    decoded with a fatal TextDecoder so invalid UTF-8 is an error rather than
 *    U+FFFD.
 *  - Besides strict RFC 4514 we accept what RFC 2253 §4 says parsers MUST
 *    accept: `;` as an RDN separator, spaces around `=`, `,`, `;` and `+`,
 *    quoted values (`cn="Smith, John"`) and an `OID.`/`oid.` prefix on numeric
 *    types (the prefix is dropped). Unescaped `<`, `>` and `=` inside a value
 *    are accepted too: they are unambiguous. Unescaped `"` (other than as
 *    RFC 2253 quoting) and NUL are rejected.
 */

/** One attribute type and value assertion. `value` holds the decoded characters. */
export interface Ava {
  type: string;
  value: string;
}

/** A relative distinguished name; multi-valued RDNs (`a=1+b=2`) have more than one AVA. */
export type Rdn = Ava[];

/** Thrown for syntactically invalid DNs (and un-formattable RDNs in formatDn). */
export class InvalidDnError extends Error {
  /** Offset into the DN string where the problem was found, when known. */
  readonly position: number | undefined;

  constructor(message: string, position?: number) {
    super(message);
    this.name = 'InvalidDnError';
    this.position = position;
  }
}


// ---------------------------------------------------------------------------
// Character codes
// ---------------------------------------------------------------------------

const NUL = 0x00;
const SPACE = 0x20;
const DQUOTE = 0x22;
const SHARP = 0x23;
const PLUS = 0x2b;
const COMMA = 0x2c;
const HYPHEN = 0x2d;
const DOT = 0x2e;
const SEMI = 0x3b;
const LANGLE = 0x3c;
const EQUALS = 0x3d;
const RANGLE = 0x3e;
const ESC = 0x5c;

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Value of a hex digit, or -1. (NaN from charCodeAt past the end gives -1.) */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  // Folding bit 5 maps 'A'-'F' onto 'a'-'f'; nothing else lands in that range.
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

/** Characters that may follow a backslash directly (RFC 4514 `special` / ESC). */
function isEscapable(c: number): boolean {
  switch (c) {
    case DQUOTE: case PLUS: case COMMA: case SEMI: case LANGLE: case RANGLE:
    case ESC: case SPACE: case SHARP: case EQUALS:
      return true;
    default:
      return false;
  }
}

/** Ends an unquoted attribute value: `,` or `;` (next RDN), `+` (next AVA). */
function isSeparator(c: number): boolean {
  return c === COMMA || c === SEMI || c === PLUS;
}

// fatal: invalid UTF-8 throws instead of producing U+FFFD.
// ignoreBOM: a leading EF BB BF is the character U+FEFF, not something to drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/** A DN for an error message: quoted, and cut short so a huge input cannot flood logs. */
function quoteForMessage(dn: string): string {
  return JSON.stringify(dn.length > 200 ? dn.slice(0, 200) + '…' : dn);
}

/**
 * The grammar is flat (a list of RDNs, each a list of AVAs), so one loop in
 * `parse` drives a single cursor `i` through `readType` and `readValue`; no
 * character is looked at more than a constant number of times.
 */
class DnParser {
  private i = 0;
  private readonly n: number;

  constructor(private readonly s: string) {
    this.n = s.length;
  }

  private fail(what: string, at: number = this.i): never {
    throw new InvalidDnError(`Invalid DN ${quoteForMessage(this.s)}: ${what} at offset ${at}`, at);
  }

  private skipSpaces(): void {
    const s = this.s;
    while (this.i < this.n && s.charCodeAt(this.i) === SPACE) this.i++;
  }

  parse(): Rdn[] {
    this.skipSpaces();
    // '' is the root DSE. We also treat an all-space string as empty, since
    // spaces around separators are insignificant.
    if (this.i === this.n) return [];

    const s = this.s;
    const rdns: Rdn[] = [];
    let rdn: Rdn = [];
    for (;;) {
      const type = this.readType();
      const value = this.readValue();
      rdn.push({ type, value });

      if (this.i === this.n) break;
      const c = s.charCodeAt(this.i); // readValue stops only at a separator or the end
      this.i++;
      if (c !== PLUS) {
        if (rdn.length > 1) checkDistinctTypes(rdn, this);
        rdns.push(rdn);
        rdn = [];
      }
    }
    if (rdn.length > 1) checkDistinctTypes(rdn, this);
    rdns.push(rdn);
    return rdns;
  }

  /** Called by checkDistinctTypes, which has no cursor of its own. */
  duplicateType(type: string): never {
    this.fail(`attribute type ${JSON.stringify(type)} appears twice in one RDN`, this.i - 1);
  }

  /**
   * attributeType = descr / numericoid (RFC 4512 §1.4), surrounded by
   * optional spaces, then '='. Leaves the cursor just after '='.
   */
  private readType(): string {
    const s = this.s;
    this.skipSpaces();
    let start = this.i;
    const c = s.charCodeAt(start);

    if (isAlpha(c)) {
      // descr = ALPHA *( ALPHA / DIGIT / HYPHEN )
      let j = start + 1;
      for (let d = s.charCodeAt(j); isAlpha(d) || isDigit(d) || d === HYPHEN; d = s.charCodeAt(++j));
      // RFC 2253 §4: "OID.2.5.4.3" is the same as "2.5.4.3".
      if (j - start === 3 && s.charCodeAt(j) === DOT && isDigit(s.charCodeAt(j + 1)) &&
          s.slice(start, j).toLowerCase() === 'oid') {
        start = j + 1;
        this.i = this.readNumericOid(start);
      } else {
        this.i = j;
      }
    } else if (isDigit(c)) {
      this.i = this.readNumericOid(start);
    } else if (this.i === this.n) {
      this.fail('missing attribute type after separator');
    } else {
      this.fail(c === EQUALS ? 'empty attribute type' : `unexpected ${JSON.stringify(s[this.i])} where an attribute type should start`);
    }

    const type = s.slice(start, this.i);
    this.skipSpaces();
    if (s.charCodeAt(this.i) !== EQUALS) {
      this.fail(this.i === this.n
        ? `missing '=' after attribute type ${JSON.stringify(type)}`
        : `expected '=' after attribute type ${JSON.stringify(type)}, found ${JSON.stringify(s[this.i])}`);
    }
    this.i++;
    return type;
  }

  /** numericoid = number 1*( DOT number ); number = DIGIT / ( LDIGIT 1*DIGIT ). Returns end offset. */
  private readNumericOid(start: number): number {
    const s = this.s;
    let j = start;
    let arcs = 0;
    for (;;) {
      const arcStart = j;
      while (isDigit(s.charCodeAt(j))) j++;
      if (j === arcStart) this.fail('empty arc in numeric OID attribute type', j);
      if (j - arcStart > 1 && s.charCodeAt(arcStart) === 0x30) this.fail('leading zero in numeric OID attribute type', arcStart);
      arcs++;
      if (s.charCodeAt(j) !== DOT) break;
      j++;
    }
    if (arcs < 2) this.fail('numeric OID attribute type needs at least two arcs', start);
    const d = s.charCodeAt(j);
    if (isAlpha(d) || d === HYPHEN) this.fail('invalid character in numeric OID attribute type', j);
    return j;
  }

  /**
   * attributeValue after '='. Leaves the cursor on the separator that ended
   * the value, or at the end of the string.
   */
  private readValue(): string {
    const s = this.s;
    this.skipSpaces(); // unescaped leading spaces are not part of the value
    const c = s.charCodeAt(this.i);
    if (c === SHARP) return this.readBerValue();
    if (c === DQUOTE) return this.readQuotedValue();

    let out = '';
    let seg = this.i;      // start of the current run of literal characters
    let sigEnd = this.i;   // end of that run's last non-space character
    for (;;) {
      if (this.i === this.n) break;
      const d = s.charCodeAt(this.i);
      if (isSeparator(d)) break;
      if (d === ESC) {
        // Spaces before an escape are inside the value, so take the run whole.
        out += s.slice(seg, this.i);
        out += this.readEscape();
        seg = sigEnd = this.i;
      } else if (d === SPACE) {
        this.i++; // significant only if something significant follows
      } else if (d === DQUOTE) {
        this.fail('unescaped \'"\' in attribute value');
      } else if (d === NUL) {
        this.fail('unescaped NUL in attribute value (write it as \\00)');
      } else {
        sigEnd = ++this.i;
      }
    }
    // Drop unescaped trailing spaces; escaped ones were already appended.
    return out + s.slice(seg, sigEnd);
  }

  /**
   * RFC 2253 §4 quoted value: everything up to the closing quote is literal
   * except backslash escapes. Only spaces may follow the closing quote.
   */
  private readQuotedValue(): string {
    const s = this.s;
    const open = this.i++;
    let out = '';
    let seg = this.i;
    for (;;) {
      if (this.i === this.n) this.fail('unterminated quoted attribute value', open);
      const d = s.charCodeAt(this.i);
      if (d === DQUOTE) break;
      if (d === ESC) {
        out += s.slice(seg, this.i);
        out += this.readEscape();
        seg = this.i;
      } else {
        if (d === NUL) this.fail('unescaped NUL in attribute value (write it as \\00)');
        this.i++;
      }
    }
    out += s.slice(seg, this.i);
    this.i++; // closing quote
    this.skipSpaces();
    if (this.i < this.n && !isSeparator(s.charCodeAt(this.i))) {
      this.fail('unexpected character after closing quote');
    }
    return out;
  }

  /**
   * Cursor on '\'. Decodes `\<special>` to that character, or a whole run of
   * consecutive `\XX` hex pairs as UTF-8 (a multi-byte character must be
   * escaped as consecutive pairs, e.g. `\C3\A9`).
   */
  private readEscape(): string {
    const s = this.s;
    const at = this.i;
    const next = s.charCodeAt(at + 1);
    if (at + 1 >= this.n) this.fail('unterminated escape: backslash at end of DN', at);
    if (hexVal(next) < 0) {
      if (!isEscapable(next)) this.fail(`invalid escape sequence ${JSON.stringify('\\' + s[at + 1])}`, at);
      this.i = at + 2;
      return s[at + 1]!;
    }

    // Count the hex-pair run first so the byte buffer is allocated once.
    let count = 0;
    let j = at;
    while (s.charCodeAt(j) === ESC && hexVal(s.charCodeAt(j + 1)) >= 0) {
      if (hexVal(s.charCodeAt(j + 2)) < 0) {
        this.fail(`invalid hex escape ${JSON.stringify(s.slice(j, j + 3))}: needs two hex digits`, j);
      }
      count++;
      j += 3;
    }
    this.i = j;

    if (count === 1) {
      const b = (hexVal(s.charCodeAt(at + 1)) << 4) | hexVal(s.charCodeAt(at + 2));
      if (b < 0x80) return String.fromCharCode(b); // the usual case: \2C, \20, \00 ...
      this.fail(`hex escape ${JSON.stringify(s.slice(at, at + 3))} is not valid UTF-8 on its own`, at);
    }
    const bytes = new Uint8Array(count);
    for (let k = 0, p = at; k < count; k++, p += 3) {
      bytes[k] = (hexVal(s.charCodeAt(p + 1)) << 4) | hexVal(s.charCodeAt(p + 2));
    }
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail(`hex escapes ${JSON.stringify(s.slice(at, j))} are not valid UTF-8`, at);
    }
  }

  /**
   * `#` hexstring: the BER encoding of the value (RFC 4514 §2.4 / §3). We
   * decode the string types a directory actually puts in DNs.
   */
  private readBerValue(): string {
    const s = this.s;
    const sharp = this.i;
    let j = sharp + 1;
    while (hexVal(s.charCodeAt(j)) >= 0) j++;
    const digits = j - sharp - 1;
    if (digits === 0) this.fail("'#' must be followed by hex digits (escape a literal leading '#' as \\#)", sharp);
    if (digits % 2 !== 0) this.fail("odd number of hex digits in '#' value", sharp);
    this.i = j;
    this.skipSpaces();
    if (this.i < this.n && !isSeparator(s.charCodeAt(this.i))) {
      this.fail("unexpected character after '#' hex value");
    }

    const bytes = new Uint8Array(digits / 2);
    for (let k = 0, p = sharp + 1; k < bytes.length; k++, p += 2) {
      bytes[k] = (hexVal(s.charCodeAt(p)) << 4) | hexVal(s.charCodeAt(p + 1));
    }
    const r = decodeBerString(bytes);
    if (typeof r !== 'string') this.fail(`bad '#' value: ${r.error}`, sharp);
    return r;
  }
}

/** X.501: the AVAs of one RDN have distinct types (compared canonically: cn == 2.5.4.3). */
function checkDistinctTypes(rdn: Rdn, parser: DnParser): void {
  // A Set, not a pair loop: one message can hold an RDN of 40000 AVAs (O(n^2) stalled the server).
  const seen = new Set<string>();
  for (const ava of rdn) {
    const t = canonicalType(ava.type);
    if (seen.has(t)) parser.duplicateType(ava.type);
    seen.add(t);
  }
}

/** PrintableString alphabet (X.680 §41.4): A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
function isPrintableStringChar(b: number): boolean {
  if (isAlpha(b) || isDigit(b)) return true;
  switch (b) {
    case 0x20: case 0x27: case 0x28: case 0x29: case 0x2b: case 0x2c:
    case 0x2d: case 0x2e: case 0x2f: case 0x3a: case 0x3d: case 0x3f:
      return true;
    default:
      return false;
  }
}

/** Decode one primitive BER TLV holding a string. Returns the string or an error description. */
function decodeBerString(b: Uint8Array): string | { error: string } {
  if (b.length < 2) return { error: 'truncated BER element' };
  const tag = b[0]!;
  let len = b[1]!;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) return { error: 'indefinite BER length is not allowed' };
    if (n > 4) return { error: 'BER length too large' };
    if (b.length < 2 + n) return { error: 'truncated BER length' };
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[off++]!;
  }
  if (off + len !== b.length) return { error: `BER length ${len} does not match ${b.length - off} content bytes` };
  const content = b.subarray(off);

  switch (tag) {
    case 0x0c: // UTF8String
    case 0x04: // OCTET STRING: taken as UTF-8 text, as RFC 4514 §4's example does
      break;
    case 0x13: // PrintableString
      for (const x of content) if (!isPrintableStringChar(x)) return { error: `byte 0x${hex2(x)} is not allowed in a PrintableString` };
      break;
    case 0x16: // IA5String
      for (const x of content) if (x > 0x7f) return { error: `byte 0x${hex2(x)} is not allowed in an IA5String` };
      break;
    default:
      return { error: `unsupported BER tag 0x${hex2(tag)} (supported: UTF8String, PrintableString, IA5String, OCTET STRING)` };
  }
  try {
    return utf8.decode(content);
  } catch {
    return { error: 'content is not valid UTF-8' };
  }
}

function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

/**
 * Parse an RFC 4514 string DN into RDNs, leftmost (most specific) first.
 * '' gives [] (the root DSE). Throws InvalidDnError on bad syntax.
 */
export function parseDn(dn: string): Rdn[] {
  if (typeof dn !== 'string') throw new TypeError('parseDn: dn must be a string');
  return new DnParser(dn).parse();
}

// ---------------------------------------------------------------------------
// Escaping and formatting
// ---------------------------------------------------------------------------

/** Characters escaped anywhere in a value: , + " \ < > ; = */
function mustEscape(c: number): boolean {
  switch (c) {
    case COMMA: case PLUS: case DQUOTE: case ESC: case LANGLE: case RANGLE: case SEMI: case EQUALS:
      return true;
    default:
      return false;
  }
}

/**
 * Escape an attribute value for a DN string (RFC 4514 §2.4). Specials get a
 * backslash, NUL becomes \00, a leading space or '#' and a trailing space are
 * escaped. Non-ASCII is left as characters. Values needing no escaping are
 * returned as-is, without allocating.
 */
export function escapeDnValue(value: string): string {
  const n = value.length;
  if (n === 0) return value;
  const last = n - 1;
  let out = '';
  let seg = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    let rep: string;
    if (mustEscape(c) || (c === SPACE && (i === 0 || i === last)) || (c === SHARP && i === 0)) {
      rep = '\\' + value[i];
    } else if (c === NUL) {
      rep = '\\00';
    } else {
      continue;
    }
    out += value.slice(seg, i) + rep;
    seg = i + 1;
  }
  return seg === 0 ? value : out + value.slice(seg);
}

/** Throws unless `type` is a descr or numericoid, so formatDn cannot emit a DN that parses differently. */
function assertValidType(type: string): void {
  const n = type.length;
  const c0 = type.charCodeAt(0);
  let ok = n > 0;
  if (ok && isAlpha(c0)) {
    for (let i = 1; i < n && ok; i++) {
      const c = type.charCodeAt(i);
      ok = isAlpha(c) || isDigit(c) || c === HYPHEN;
    }
  } else if (ok && isDigit(c0)) {
    // digits and dots, no empty arcs, no leading zeros, at least one dot
    let arcStart = 0;
    let dots = 0;
    for (let i = 0; i <= n && ok; i++) {
      const c = i < n ? type.charCodeAt(i) : DOT;
      if (c === DOT) {
        ok = i > arcStart && !(i - arcStart > 1 && type.charCodeAt(arcStart) === 0x30);
        arcStart = i + 1;
        if (i < n) dots++;
      } else {
        ok = isDigit(c);
      }
    }
    ok = ok && dots > 0;
  } else {
    ok = false;
  }
  if (!ok) throw new InvalidDnError(`Invalid attribute type ${JSON.stringify(type)} for a DN`);
}

function formatRdn(rdn: Rdn): string {
  if (rdn.length === 0) throw new InvalidDnError('Cannot format an RDN with no attribute value assertions');
  let out = '';
  for (let k = 0; k < rdn.length; k++) {
    const ava = rdn[k]!;
    assertValidType(ava.type);
    if (k > 0) out += '+';
    out += ava.type + '=' + escapeDnValue(ava.value);
  }
  return out;
}

/** Build a string DN from RDNs (types as given, values escaped). */
export function formatDn(rdns: Rdn[]): string {
  let out = '';
  for (let k = 0; k < rdns.length; k++) {
    if (k > 0) out += ',';
    out += formatRdn(rdns[k]!);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Normalisation and comparison
// ---------------------------------------------------------------------------

/** Lower-cased type names and OIDs mapped to the short names used in canonical DNs. */
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'cn'], ['commonname', 'cn'],
  ['0.9.2342.19200300.100.1.1', 'uid'], ['userid', 'uid'],
  ['2.5.4.11', 'ou'], ['organizationalunitname', 'ou'],
  ['0.9.2342.19200300.100.1.25', 'dc'], ['domaincomponent', 'dc'],
  ['2.5.4.10', 'o'], ['organizationname', 'o'],
  ['2.5.4.6', 'c'], ['countryname', 'c'],
  ['2.5.4.7', 'l'], ['localityname', 'l'],
  ['2.5.4.8', 'st'], ['stateorprovincename', 'st'],
]);

/** Attribute types are case-insensitive ASCII; OIDs and long names map to short names. */
function canonicalType(type: string): string {
  const t = type.toLowerCase();
  return TYPE_ALIASES.get(t) ?? t;
}

/**
 * Prepare a value for caseIgnoreMatch (a pragmatic subset of RFC 4518):
 * NFKC plus case folding, then insignificant-space handling: leading and
 * trailing spaces dropped, inner runs of spaces collapsed to one. A value of
 * only spaces becomes '' (RFC 4518 also makes "" and "   " match).
 *
 * Case folding is approximated by lower -> upper -> lower, which also folds
 * ß and ẞ to "ss" and final sigma to σ as full case folding does (the first
 * toLowerCase is for ẞ, whose upper case is itself but whose lower case ß
 * upper-cases to "SS"; without it the result would not be a fixed point).
 * NFKC is applied before (so compatibility forms like ℌ fold too) and after
 * (so the result is composed). Pure-ASCII values, the common case, skip the
 * Unicode work. The result is idempotent for every single code point.
 * Not done: RFC 4518 "map to nothing" (soft hyphen, zero-width chars) and
 * mapping other whitespace (tab, newline) to SPACE.
 */
function prepareCaseIgnore(value: string): string {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) { ascii = false; break; }
  }
  const v = ascii
    ? value.toLowerCase()
    : value.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
  return collapseSpaces(v);
}

/** Trim spaces and collapse inner runs to one, allocating only when something changes. */
function collapseSpaces(v: string): string {
  let start = 0;
  let end = v.length;
  while (start < end && v.charCodeAt(start) === SPACE) start++;
  while (end > start && v.charCodeAt(end - 1) === SPACE) end--;

  let out = '';
  let seg = start;
  for (let i = start + 1; i < end; i++) {
    // A second consecutive space: keep the run's first space, skip the rest.
    if (v.charCodeAt(i) === SPACE && v.charCodeAt(i - 1) === SPACE) {
      out += v.slice(seg, i);
      while (v.charCodeAt(i + 1) === SPACE) i++;
      seg = i + 1;
    }
  }
  if (seg === 0 && end === v.length) return v;
  return out + v.slice(seg, end);
}

/**
 * Canonical `type=value` for one AVA.
 *
 * Case-exact types (Django usernames in case-sensitive mode) compare the
 * value exactly: no case folding, no Unicode normalisation and no space
 * trimming. Django usernames never carry leading/trailing spaces (Django
 * strips form input and normalises usernames to NFKC before storing), so
 * trimming would buy nothing, and exact comparison guarantees that no DN
 * other than the stored username's can ever match it.
 */
function avaKey(ava: Ava, caseExact: ReadonlySet<string> | undefined): string {
  const type = canonicalType(ava.type);
  const value = caseExact !== undefined && caseExact.has(type) ? ava.value : prepareCaseIgnore(ava.value);
  return type + '=' + escapeDnValue(value);
}

/** Canonical form of one RDN; AVAs of a multi-valued RDN sorted so order does not matter. */
function rdnKey(rdn: Rdn, caseExact: ReadonlySet<string> | undefined): string {
  if (rdn.length === 1) return avaKey(rdn[0]!, caseExact);
  const keys = rdn.map((a) => avaKey(a, caseExact));
  keys.sort();
  return keys.join('+');
}

/**
 * A canonical key for comparing DNs as LDAP does: types lower-cased and mapped
 * to short names, values prepared for caseIgnoreMatch (or kept exact for
 * `caseExactTypes`), multi-valued RDNs sorted, formatted with escapeDnValue.
 * Two DNs are equal iff their keys are equal.
 *
 * `opts.caseExactTypes` holds canonical (lower-case, short-name) types whose
 * values compare exactly, e.g. `new Set(['uid'])`; it is matched after type
 * canonicalisation, so 'UID', 'userid' and '0.9.2342.19200300.100.1.1' all
 * hit 'uid'.
 *
 * Note: do not test ancestry with `key.endsWith(',' + baseKey)` — an escaped
 * comma inside a value (`cn=a\,dc=com`) would match. Use isDescendantOrSelf.
 */
export function normalizeDn(dn: string | Rdn[], opts?: { caseExactTypes?: ReadonlySet<string> }): string {
  const rdns = typeof dn === 'string' ? parseDn(dn) : dn;
  const caseExact = opts?.caseExactTypes;
  let out = '';
  for (let k = 0; k < rdns.length; k++) {
    if (k > 0) out += ',';
    out += rdnKey(rdns[k]!, caseExact);
  }
  return out;
}

/** Number of RDNs of `dn` below `base` (0 when equal); -1 when `dn` is not at or below `base`. */
export function depthBelow(dn: string | Rdn[], base: string | Rdn[], opts?: { caseExactTypes?: ReadonlySet<string> }): number {
  const d = typeof dn === 'string' ? parseDn(dn) : dn;
  const b = typeof base === 'string' ? parseDn(base) : base;
  const extra = d.length - b.length;
  if (extra < 0) return -1;
  const caseExact = opts?.caseExactTypes;
  // Compare from the root end (the base's last RDN) so unrelated trees differ early.
  for (let k = b.length - 1; k >= 0; k--) {
    if (rdnKey(d[k + extra]!, caseExact) !== rdnKey(b[k]!, caseExact)) return -1;
  }
  return extra;
}

/** True if `dn` equals `base` or lies below it, comparing normalised RDNs. */
export function isDescendantOrSelf(dn: string | Rdn[], base: string | Rdn[], opts?: { caseExactTypes?: ReadonlySet<string> }): boolean {
  return depthBelow(dn, base, opts) >= 0;
}
