// LDAP search filters: one AST, read from BER (RFC 4511 §4.5.1.7) or from the string form
// (RFC 4515), written back as a string for logs, and evaluated against an entry with each
// attribute's matching rule and RFC 4511's three-valued logic.
import { BoundedMemo } from './memo.js';
import { BerError, BerReader } from './ber.js';
import { attributeKey, attributeType, compareValues, foldCase, normalizeValue, type Equality } from './schema.js';
import { parseDn } from './dn.js';

export type Filter =
  | { type: 'and'; filters: Filter[] }
  | { type: 'or'; filters: Filter[] }
  | { type: 'not'; filter: Filter }
  | { type: 'eq' | 'ge' | 'le' | 'approx'; attr: string; value: string }
  | { type: 'substr'; attr: string; initial?: string; any: string[]; final?: string }
  | { type: 'present'; attr: string }
  | { type: 'ext'; attr?: string; rule?: string; value: string; dnAttrs: boolean };

export class FilterError extends Error {}

export interface FilterLimits {
  maxDepth: number;
  maxElements: number;
}
const DEFAULT_LIMITS: FilterLimits = { maxDepth: 32, maxElements: 1024 };

// ---------------------------------------------------------------- BER

/** Decodes a Filter CHOICE. `r` must be positioned at the filter element. */
export function readFilter(r: BerReader, limits: FilterLimits = DEFAULT_LIMITS): Filter {
  let count = 0;
  const read = (el: { tag: number; body: BerReader }, depth: number): Filter => {
    if (++count > limits.maxElements) throw new BerError(`filter has more than ${limits.maxElements} elements`);
    if (depth > limits.maxDepth) throw new BerError(`filter nested deeper than ${limits.maxDepth}`);
    const b = el.body;
    switch (el.tag) {
      case 0xa0:
      case 0xa1: {
        const filters: Filter[] = [];
        while (!b.done) filters.push(read(b.any(), depth + 1));
        return { type: el.tag === 0xa0 ? 'and' : 'or', filters };
      }
      case 0xa2: {
        const f = read(b.any(), depth + 1);
        if (!b.done) throw new BerError('not-filter holds more than one filter');
        return { type: 'not', filter: f };
      }
      case 0xa3:
      case 0xa5:
      case 0xa6:
      case 0xa8: {
        const attr = b.string();
        const value = b.string();
        const type = el.tag === 0xa3 ? 'eq' : el.tag === 0xa5 ? 'ge' : el.tag === 0xa6 ? 'le' : 'approx';
        return { type, attr, value };
      }
      case 0xa4: {
        const attr = b.string();
        const seq = b.sequence(0x30);
        const f: Filter & { type: 'substr' } = { type: 'substr', attr, any: [] };
        let n = 0;
        while (!seq.done) {
          const part = seq.any();
          const v = part.body.rest().toString('utf8');
          if (part.tag === 0x80 && n === 0) f.initial = v;
          else if (part.tag === 0x81 && f.final === undefined) f.any.push(v);
          else if (part.tag === 0x82 && f.final === undefined) f.final = v;
          else throw new BerError('malformed substrings filter');
          n++;
        }
        if (n === 0) throw new BerError('substrings filter without substrings');
        return f;
      }
      case 0x87:
        return { type: 'present', attr: b.rest().toString('utf8') };
      case 0xa9: {
        const f: Filter & { type: 'ext' } = { type: 'ext', value: '', dnAttrs: false };
        let hasValue = false;
        while (!b.done) {
          const part = b.any();
          if (part.tag === 0x81) f.rule = part.body.rest().toString('utf8');
          else if (part.tag === 0x82) f.attr = part.body.rest().toString('utf8');
          else if (part.tag === 0x83) {
            f.value = part.body.rest().toString('utf8');
            hasValue = true;
          } else if (part.tag === 0x84) f.dnAttrs = part.body.rest()[0] !== 0;
          else throw new BerError('malformed extensible filter');
        }
        if (!hasValue || (f.rule === undefined && f.attr === undefined)) throw new BerError('malformed extensible filter');
        return f;
      }
      default:
        throw new BerError(`unknown filter tag 0x${el.tag.toString(16)}`);
    }
  };
  return read(r.any(), 0);
}

// ---------------------------------------------------------------- string form (RFC 4515)

export function parseFilter(text: string, limits: FilterLimits = DEFAULT_LIMITS): Filter {
  let i = 0;
  let count = 0;
  const fail = (msg: string): never => {
    throw new FilterError(`bad filter at position ${i}: ${msg}`);
  };
  // Values: unescape \XX into UTF-8 bytes.
  const unescape = (s: string): string => {
    if (!s.includes('\\')) return s;
    const bytes: number[] = [];
    for (let k = 0; k < s.length; k++) {
      const c = s[k];
      if (c === '\\') {
        const h = s.slice(k + 1, k + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('backslash must be followed by two hex digits');
        bytes.push(parseInt(h, 16));
        k += 2;
      } else {
        // Whole code points: a surrogate pair encoded half by half would become two U+FFFD.
        const ch = String.fromCodePoint(s.codePointAt(k)!);
        for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
        k += ch.length - 1;
      }
    }
    return Buffer.from(bytes).toString('utf8');
  };
  const parseOne = (depth: number): Filter => {
    if (++count > limits.maxElements) fail('too many elements');
    if (depth > limits.maxDepth) fail('nested too deeply');
    if (text[i] !== '(') fail("expected '('");
    i++;
    let f: Filter;
    const c = text[i];
    if (c === '&' || c === '|') {
      i++;
      const filters: Filter[] = [];
      while (text[i] === '(') filters.push(parseOne(depth + 1));
      f = { type: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      i++;
      f = { type: 'not', filter: parseOne(depth + 1) };
    } else {
      const start = i;
      while (i < text.length && text[i] !== ')' && text[i] !== '(') i++;
      if (text[i] !== ')') fail("expected ')'");
      f = parseItem(text.slice(start, i));
    }
    if (text[i] !== ')') fail("expected ')'");
    i++;
    return f;
  };
  const parseItem = (item: string): Filter => {
    // ":dn" is an ABNF literal, so case-insensitive (RFC 4515's own example is "(:DN:2.4.6.8.10:=Dino)").
    const m = /^([^=~<>:]*)(:[dD][nN])?(?::([^:=]+))?(~=|>=|<=|:=|=)(.*)$/s.exec(item);
    if (!m) return fail('missing operator');
    const [, attr, dn, rule, op, raw] = m;
    if (op === ':=') {
      if (!attr && !rule) fail('extensible match needs an attribute or a matching rule');
      return { type: 'ext', attr: attr || undefined, rule: rule || undefined, value: unescape(raw), dnAttrs: !!dn };
    }
    if (dn || rule || !/^[A-Za-z0-9][A-Za-z0-9.;-]*$/.test(attr)) fail(`bad attribute description "${attr}"`);
    if (op === '~=') return { type: 'approx', attr, value: unescape(raw) };
    if (op === '>=') return { type: 'ge', attr, value: unescape(raw) };
    if (op === '<=') return { type: 'le', attr, value: unescape(raw) };
    if (raw === '*') return { type: 'present', attr };
    if (!raw.includes('*')) return { type: 'eq', attr, value: unescape(raw) };
    const parts = raw.split('*');
    const f: Filter & { type: 'substr' } = { type: 'substr', attr, any: [] };
    if (parts[0] !== '') f.initial = unescape(parts[0]);
    const last = parts[parts.length - 1];
    if (last !== '') f.final = unescape(last);
    for (const p of parts.slice(1, -1)) {
      if (p === '') fail('empty substring between two *');
      f.any.push(unescape(p));
    }
    return f;
  };
  const f = parseOne(0);
  if (i !== text.length) fail('text after the filter');
  return f;
}

/** RFC 4515 §3 value escaping: * ( ) \ NUL always; everything else stays readable. */
export function escapeFilterValue(v: string): string {
  return v.replace(/[*()\\\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

export function filterToString(f: Filter): string {
  switch (f.type) {
    case 'and':
      return `(&${f.filters.map(filterToString).join('')})`;
    case 'or':
      return `(|${f.filters.map(filterToString).join('')})`;
    case 'not':
      return `(!${filterToString(f.filter)})`;
    case 'eq':
      return `(${f.attr}=${escapeFilterValue(f.value)})`;
    case 'ge':
      return `(${f.attr}>=${escapeFilterValue(f.value)})`;
    case 'le':
      return `(${f.attr}<=${escapeFilterValue(f.value)})`;
    case 'approx':
      return `(${f.attr}~=${escapeFilterValue(f.value)})`;
    case 'present':
      return `(${f.attr}=*)`;
    case 'substr':
      return `(${f.attr}=${f.initial ? escapeFilterValue(f.initial) : ''}*${f.any.map((a) => escapeFilterValue(a) + '*').join('')}${f.final ? escapeFilterValue(f.final) : ''})`;
    case 'ext':
      return `(${f.attr ?? ''}${f.dnAttrs ? ':dn' : ''}${f.rule ? ':' + f.rule : ''}:=${escapeFilterValue(f.value)})`;
  }
}

// ---------------------------------------------------------------- evaluation

/** What the evaluator needs of an entry: its DN and values by canonical attribute key. */
export interface EvalEntry {
  dn: string;
  get(key: string): readonly string[] | undefined;
}

export interface MatchContext {
  /** Equality rule override per attribute key (uid follows the username setting). */
  equalityOf(key: string): Equality;
  /** Attribute types compared case-exactly inside DN values (uid by default). */
  caseExactDnTypes: ReadonlySet<string>;
}

// Three-valued logic: RFC 4511 §4.5.1.7.
export const FALSE = 0;
export const TRUE = 1;
export const UNDEFINED = 2;
export type Tri = 0 | 1 | 2;

const RULES: Record<string, Equality> = {
  caseignorematch: 'caseIgnore',
  '2.5.13.2': 'caseIgnore',
  caseexactmatch: 'caseExact',
  '2.5.13.5': 'caseExact',
  distinguishednamematch: 'dn',
  '2.5.13.1': 'dn',
  integermatch: 'integer',
  '2.5.13.14': 'integer',
  booleanmatch: 'boolean',
  '2.5.13.13': 'boolean',
  caseignoreia5match: 'caseIgnore',
  '1.3.6.1.4.1.1466.109.114.2': 'caseIgnore',
  caseexactia5match: 'caseExact',
  '1.3.6.1.4.1.1466.109.114.1': 'caseExact',
  objectidentifiermatch: 'objectIdentifier',
  '2.5.13.0': 'objectIdentifier',
};

/**
 * The filter's value on an entry whose `unknown` attributes have not been read yet (a
 * permission's holders, say): a test that reads one of them counts as Undefined. RFC 4511's
 * three-valued logic is monotonic, so FALSE here means FALSE whatever those values turn out to
 * be: the caller may skip reading them (and the entry) at all.
 */
export function evaluateWithout(f: Filter, e: EvalEntry, ctx: MatchContext, unknown: ReadonlySet<string>): Tri {
  switch (f.type) {
    case 'and': {
      let r: Tri = TRUE;
      for (const s of f.filters) {
        const v = evaluateWithout(s, e, ctx, unknown);
        if (v === FALSE) return FALSE;
        if (v === UNDEFINED) r = UNDEFINED;
      }
      return r;
    }
    case 'or': {
      let r: Tri = FALSE;
      for (const s of f.filters) {
        const v = evaluateWithout(s, e, ctx, unknown);
        if (v === TRUE) return TRUE;
        if (v === UNDEFINED) r = UNDEFINED;
      }
      return r;
    }
    case 'not': {
      const v = evaluateWithout(f.filter, e, ctx, unknown);
      return v === UNDEFINED ? UNDEFINED : v === TRUE ? FALSE : TRUE;
    }
    case 'ext':
      // Without an attribute it tests every attribute, the unknown ones included.
      if (f.attr === undefined || unknown.has(attributeKey(f.attr))) return UNDEFINED;
      return evaluate(f, e, ctx);
    default:
      return unknown.has(attributeKey(f.attr)) ? UNDEFINED : evaluate(f, e, ctx);
  }
}

export function evaluate(f: Filter, e: EvalEntry, ctx: MatchContext): Tri {
  switch (f.type) {
    case 'and': {
      let r: Tri = TRUE;
      for (const s of f.filters) {
        const v = evaluate(s, e, ctx);
        if (v === FALSE) return FALSE;
        if (v === UNDEFINED) r = UNDEFINED;
      }
      return r;
    }
    case 'or': {
      let r: Tri = FALSE;
      for (const s of f.filters) {
        const v = evaluate(s, e, ctx);
        if (v === TRUE) return TRUE;
        if (v === UNDEFINED) r = UNDEFINED;
      }
      return r;
    }
    case 'not': {
      const v = evaluate(f.filter, e, ctx);
      return v === UNDEFINED ? UNDEFINED : v === TRUE ? FALSE : TRUE;
    }
    case 'present': {
      const key = attributeKey(f.attr);
      if (key === 'objectclass') return TRUE;
      const vals = e.get(key);
      return vals && vals.length > 0 ? TRUE : FALSE;
    }
    case 'eq':
    case 'approx':
      return matchEquality(attributeKey(f.attr), f.value, e, ctx, undefined);
    case 'ge':
    case 'le': {
      const key = attributeKey(f.attr);
      if (!attributeType(key)) return UNDEFINED;
      // No ordering rule, or an invalid assertion: Undefined whether or not the entry has values.
      const eq = ctx.equalityOf(key);
      if (eq === 'dn' || eq === 'boolean' || eq === 'objectIdentifier') return UNDEFINED;
      const a = normalizedAssertion(eq, f.value, ctx);
      if (a === undefined) return UNDEFINED;
      const vals = e.get(key);
      if (!vals) return FALSE;
      for (const v of vals) {
        const n = normalizeValue(eq, v, ctx.caseExactDnTypes);
        if (n === undefined) continue;
        const c = compareValues(eq, n, a);
        if (f.type === 'ge' ? c >= 0 : c <= 0) return TRUE;
      }
      return FALSE;
    }
    case 'substr': {
      const key = attributeKey(f.attr);
      if (!attributeType(key)) return UNDEFINED;
      const eq = ctx.equalityOf(key);
      if (eq !== 'caseIgnore' && eq !== 'caseExact') return UNDEFINED; // no substring rule
      const vals = e.get(key);
      if (!vals) return FALSE;
      const fold = eq === 'caseIgnore' ? foldCase : (s: string) => s;
      const initial = f.initial !== undefined ? fold(f.initial) : undefined;
      const final = f.final !== undefined ? fold(f.final) : undefined;
      const any = f.any.map(fold);
      for (const raw of vals) {
        if (substringMatch(fold(raw), initial, any, final)) return TRUE;
      }
      return FALSE;
    }
    case 'ext': {
      let rule: Equality | undefined;
      if (f.rule !== undefined) {
        rule = RULES[f.rule.toLowerCase()];
        if (!rule) return UNDEFINED; // unknown matching rule (RFC 4511: Undefined)
      }
      let r: Tri = FALSE;
      if (f.attr !== undefined) {
        r = matchEquality(attributeKey(f.attr), f.value, e, ctx, rule);
      }
      if (r !== TRUE && f.dnAttrs) {
        // The entry's DN attribute values take part in the match (RFC 4511 §4.5.1.7.7).
        try {
          for (const rdn of parseDn(e.dn)) {
            for (const ava of rdn) {
              if (f.attr !== undefined && attributeKey(ava.type) !== attributeKey(f.attr)) continue;
              const eq = rule ?? ctx.equalityOf(attributeKey(ava.type));
              const a = normalizedAssertion(eq, f.value, ctx);
              if (a !== undefined && normalizeValue(eq, ava.value, ctx.caseExactDnTypes) === a) return TRUE;
            }
          }
        } catch {
          /* our own DNs always parse */
        }
      }
      return r;
    }
  }
}

// A filter's assertion values are the same for every entry it is checked against, and some
// normalisations are not cheap (a DN of 200 KB takes milliseconds): remember the last few.
const assertionMemo = new WeakMap<object, Map<Equality, BoundedMemo<string, string | undefined>>>();
function normalizedAssertion(eq: Equality, value: string, ctx: MatchContext): string | undefined {
  const types = ctx.caseExactDnTypes;
  if (value.length < 64) return normalizeValue(eq, value, types);
  // Keyed by the value string itself: V8 keeps a string's hash, so a long assertion is
  // hashed once, not once per entry.
  let byEq = assertionMemo.get(types);
  if (!byEq) assertionMemo.set(types, (byEq = new Map()));
  let memo = byEq.get(eq);
  if (!memo) byEq.set(eq, (memo = new BoundedMemo(64, (v) => normalizeValue(eq, v, types))));
  return memo.get(value);
}

function matchEquality(key: string, value: string, e: EvalEntry, ctx: MatchContext, rule: Equality | undefined): Tri {
  if (!attributeType(key)) return UNDEFINED;
  const eq = rule ?? ctx.equalityOf(key);
  const a = normalizedAssertion(eq, value, ctx);
  if (a === undefined) return UNDEFINED;
  if (key === 'objectclass') {
    // objectClass values are names; compare them by OID so aliases match.
    const vals = e.get(key) ?? [];
    for (const v of vals) if (normalizeValue('objectIdentifier', v) === a) return TRUE;
    return FALSE;
  }
  const vals = e.get(key);
  if (!vals) return FALSE;
  for (const v of vals) {
    if (normalizeValue(eq, v, ctx.caseExactDnTypes) === a) return TRUE;
  }
  return FALSE;
}

function substringMatch(v: string, initial: string | undefined, any: string[], final: string | undefined): boolean {
  let pos = 0;
  let end = v.length;
  if (initial !== undefined) {
    if (!v.startsWith(initial)) return false;
    pos = initial.length;
  }
  if (final !== undefined) {
    if (v.length - pos < final.length || !v.endsWith(final)) return false;
    end = v.length - final.length;
  }
  for (const a of any) {
    const k = v.indexOf(a, pos);
    if (k < 0 || k + a.length > end) return false;
    pos = k + a.length;
  }
  return true;
}
