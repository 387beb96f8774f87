// Translates an LDAP filter into a directory predicate the store can run as one indexed
// query, on the attributes the tables in attributes.ts mark as SQL-filterable. The predicate may select MORE rows than the filter (never fewer); every candidate
// is then checked with the exact filter in memory (filter.ts), so anything SQL cannot say
// exactly is simply left to that check. `exact` tracks whether the translation can be
// negated: NOT of a superset is not a superset, so an inexact operand makes NOT select all.
import type { GroupField, Predicate, UserField } from '../directory/model.js';
import type { Filter } from './filter.js';
import type { PosixSettings } from '../directory/posix.js';
import { attributeKey, normalizeValue } from './schema.js';
import { GROUP_ATTRIBUTES, keyOf, USER_ATTRIBUTES, type AttributeRow } from './attributes.js';

interface Plan<F extends string> {
  pred: Predicate<F>;
  exact: boolean;
}

const ALL = { pred: { op: 'all' }, exact: false } as const;

// Only ASCII values are pushed to SQL case-insensitively: SQLite's lower() and PostgreSQL's
// lower() under a C locale fold ASCII only, while LDAP folds all of Unicode.
const ASCII = /^[\x00-\x7f]*$/;
// NUL never reaches SQL: PostgreSQL text cannot hold it (the query fails) and SQLite's LIKE
// stops at it. Such values are checked in memory.
const NUL = /\0/;

interface FieldSpec<F extends string> {
  field: F;
  kind: 'text' | 'int' | 'bool' | 'time';
  ci: boolean;
  /** The entry serves the column's value trimmed (entries.ts): SQL on the raw column can only
   * select a superset (containment), so such predicates are never exact. */
  trimmed?: boolean;
  /** A POSIX number served as this integer column plus `offset` (attributes.ts idNumber): a
   * value is planned as value - offset on the column. */
  offset?: number;
}

// A time is compared in SQL with a margin of 14 hours (the widest UTC offset) each way: a
// database can hold a naive local time (USE_TZ = False) or read the bound text in its session's
// time zone, and the margin keeps the rows it selects a superset of the matches whatever it
// does; the exact check in memory decides. It still narrows a search for the users who joined
// last week to about that week.
const TIME_MARGIN_MS = 14 * 3600_000;

/** A GeneralizedTime assertion (RFC 4517 §3.3.13, as normalizeValue accepts it) as an instant. */
function assertionTime(value: string): Date | undefined {
  const v = normalizeValue('generalizedTime', value);
  if (v === undefined) return undefined;
  const d = new Date(Date.UTC(+v.slice(0, 4), +v.slice(4, 6) - 1, +v.slice(6, 8), +v.slice(8, 10), +v.slice(10, 12), +v.slice(12, 14)));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The SQL for an ordering or equality on a time column: a superset (see TIME_MARGIN_MS). */
function timePlan<F extends string>(field: F, type: 'eq' | 'ge' | 'le', value: string): Plan<F> {
  const t = assertionTime(value);
  if (!t) return { pred: { op: 'none' }, exact: false };
  const from = { op: 'cmp', field, dir: 'ge', value: new Date(t.getTime() - TIME_MARGIN_MS), ci: false } as const;
  // +1 s: the assertion's fraction of a second (the served value has none).
  const to = { op: 'cmp', field, dir: 'le', value: new Date(t.getTime() + 1000 + TIME_MARGIN_MS), ci: false } as const;
  const pred: Predicate<F> = type === 'ge' ? from : type === 'le' ? to : { op: 'and', items: [from, to] };
  return { pred, exact: false };
}

function plan<F extends string>(f: Filter, fieldOf: (key: string) => FieldSpec<F> | undefined, staticMatch: (f: Filter) => boolean | undefined): Plan<F> {
  const s = staticMatch(f);
  if (s !== undefined) return { pred: { op: s ? 'all' : 'none' }, exact: true };
  switch (f.type) {
    case 'and': {
      const parts = f.filters.map((x) => plan(x, fieldOf, staticMatch));
      if (parts.some((p) => p.pred.op === 'none' && p.exact)) return { pred: { op: 'none' }, exact: true };
      const items = parts.filter((p) => p.pred.op !== 'all').map((p) => p.pred);
      const exact = parts.every((p) => p.exact);
      if (items.length === 0) return { pred: { op: 'all' }, exact };
      return { pred: items.length === 1 ? items[0] : { op: 'and', items }, exact };
    }
    case 'or': {
      const parts = f.filters.map((x) => plan(x, fieldOf, staticMatch));
      if (parts.some((p) => p.pred.op === 'all')) return { pred: { op: 'all' }, exact: parts.every((p) => p.exact) };
      const items = parts.filter((p) => p.pred.op !== 'none').map((p) => p.pred);
      const exact = parts.every((p) => p.exact);
      if (items.length === 0) return { pred: { op: 'none' }, exact };
      return { pred: items.length === 1 ? items[0] : { op: 'or', items }, exact };
    }
    case 'not': {
      const inner = plan(f.filter, fieldOf, staticMatch);
      if (!inner.exact) return ALL;
      if (inner.pred.op === 'all') return { pred: { op: 'none' }, exact: true };
      if (inner.pred.op === 'none') return { pred: { op: 'all' }, exact: true };
      return { pred: { op: 'not', item: inner.pred }, exact: true };
    }
    case 'present': {
      const spec = fieldOf(attributeKey(f.attr));
      return spec ? { pred: { op: 'present', field: spec.field }, exact: !spec.trimmed } : ALL;
    }
    case 'eq': {
      const spec = fieldOf(attributeKey(f.attr));
      if (!spec) return ALL;
      if (spec.kind === 'time') return timePlan(spec.field, 'eq', f.value);
      if (spec.kind === 'bool') {
        const v = normalizeValue('boolean', f.value);
        return v === undefined ? { pred: { op: 'none' }, exact: false } : { pred: { op: 'eq', field: spec.field, value: v === 'TRUE', ci: false }, exact: true };
      }
      if (spec.kind === 'int') {
        if (!/^-?\d{1,15}$/.test(f.value)) return { pred: { op: 'none' }, exact: false };
        return { pred: { op: 'eq', field: spec.field, value: Number(f.value) - (spec.offset ?? 0), ci: false }, exact: true };
      }
      if (f.value === '') return { pred: { op: 'none' }, exact: false };
      if ((spec.ci && !ASCII.test(f.value)) || NUL.test(f.value)) return ALL;
      if (spec.trimmed) return { pred: { op: 'like', field: spec.field, any: [f.value], ci: spec.ci }, exact: false };
      return { pred: { op: 'eq', field: spec.field, value: f.value, ci: spec.ci }, exact: true };
    }
    case 'substr': {
      const spec = fieldOf(attributeKey(f.attr));
      if (!spec || spec.kind !== 'text') return ALL;
      const all = [f.initial ?? '', ...f.any, f.final ?? ''].join('');
      // Only empty parts (possible in BER): every value matches, so it means "present"; as LIKE
      // '%' it would also take the empty strings that entries drop, and be wrong under NOT.
      if (all === '') return { pred: { op: 'present', field: spec.field }, exact: !spec.trimmed };
      if ((spec.ci && !ASCII.test(all)) || NUL.test(all)) return ALL;
      if (spec.trimmed) return { pred: { op: 'like', field: spec.field, any: [f.initial ?? '', ...f.any, f.final ?? ''].filter((x) => x !== ''), ci: spec.ci }, exact: false };
      return { pred: { op: 'like', field: spec.field, initial: f.initial, any: f.any, final: f.final, ci: spec.ci }, exact: true };
    }
    case 'ge':
    case 'le': {
      const spec = fieldOf(attributeKey(f.attr));
      if (spec?.kind === 'time') return timePlan(spec.field, f.type, f.value);
      // Text ordering differs between collations and LDAP's code-point order: integers and times only.
      if (!spec || spec.kind !== 'int' || !/^-?\d{1,15}$/.test(f.value)) return ALL;
      return { pred: { op: 'cmp', field: spec.field, dir: f.type, value: Number(f.value) - (spec.offset ?? 0), ci: false }, exact: true };
    }
    default:
      return ALL; // approx, extensible: checked in memory
  }
}

/** What SQL can filter on, by attribute key, from a table's rows marked `sql`: the row's column,
 * compared case-insensitively under caseIgnore (or, for a username, when usernames are). */
function sqlFields<F extends string>(rows: readonly AttributeRow<object>[], usernamesCi: boolean): Map<string, FieldSpec<F>> {
  const out = new Map<string, FieldSpec<F>>();
  for (const r of rows) {
    if (!r.sql) continue;
    const from = r.from as { column?: { field: F; kind: string }; trim?: boolean };
    const kind = from.column?.kind;
    if (kind !== 'text' && kind !== 'int' && kind !== 'bool' && kind !== 'time') throw new Error(`${r.type.names[0]}: only a text, integer, boolean or time column can be filtered in SQL`);
    const ci = r.usernameCase ? usernamesCi : r.type.equality === 'caseIgnore';
    out.set(keyOf(r), { field: from.column!.field, kind, ci, trimmed: from.trim === true });
  }
  return out;
}

// Resolved once: a search looks its filter's attributes up here.
const USER_FIELDS = { exact: sqlFields<UserField>(USER_ATTRIBUTES, false), ci: sqlFields<UserField>(USER_ATTRIBUTES, true) };
const GROUP_FIELDS = sqlFields<GroupField>(GROUP_ATTRIBUTES, false);

/** The POSIX numbers (uidNumber, gidNumber) a table serves as base + id, with posix on: a
 * lookup by number is a primary-key lookup. Numbers with no id behind them (a fixed primary
 * gid) are left to the in-memory check. */
function numberFields<F extends string>(rows: readonly AttributeRow<object>[], idField: F, posix: PosixSettings | null | undefined): Map<string, FieldSpec<F>> {
  const out = new Map<string, FieldSpec<F>>();
  if (!posix) return out;
  for (const r of rows) {
    const offset = r.idNumber?.(posix);
    if (offset !== undefined) out.set(keyOf(r), { field: idField, kind: 'int', ci: false, offset });
  }
  return out;
}

/** Plan for user rows. `uidCaseInsensitive` follows the username setting. */
export function planUsers(f: Filter, uidCaseInsensitive: boolean, staticMatch: (f: Filter) => boolean | undefined, posix?: PosixSettings | null) {
  const fields = uidCaseInsensitive ? USER_FIELDS.ci : USER_FIELDS.exact;
  const numbers = numberFields<UserField>(USER_ATTRIBUTES, 'id', posix);
  return plan<UserField>(f, (k) => fields.get(k) ?? numbers.get(k), staticMatch).pred;
}

export function planGroups(f: Filter, staticMatch: (f: Filter) => boolean | undefined, posix?: PosixSettings | null) {
  const numbers = numberFields<GroupField>(GROUP_ATTRIBUTES, 'id', posix);
  return plan<GroupField>(f, (k) => GROUP_FIELDS.get(k) ?? numbers.get(k), staticMatch).pred;
}

/** Every attribute key a filter reads. */
export function filterAttributes(f: Filter, out = new Set<string>()): Set<string> {
  switch (f.type) {
    case 'and':
    case 'or':
      for (const x of f.filters) filterAttributes(x, out);
      break;
    case 'not':
      filterAttributes(f.filter, out);
      break;
    case 'ext':
      if (f.attr) out.add(attributeKey(f.attr));
      else out.add('*');
      break;
    default:
      out.add(attributeKey(f.attr));
  }
  return out;
}
