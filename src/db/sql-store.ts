// The SQL every relational store shares. A database file (sqlite.ts, postgres.ts, mysql.ts) supplies
// only its driver and dialect; the queries, written once against the configured Django
// mapping, live here. Every value is a bound parameter; identifiers come from the config and
// are quoted.
import type { DjangoMapping } from '../config/types.js';
import type { Group, GroupField, GroupPredicate, Permission, Predicate, TotpDeviceRow, User, UserField, UserPredicate } from '../directory/model.js';
import { mappedTables, userColumnName } from '../django/mapping.js';
import { EXTRA_USER_COLUMNS, GROUP_COLUMNS, USER_COLUMNS, type ColumnKind } from '../ldap/attributes.js';
import { ScanTimeLimitError, SchemaError, SchemaGoneError, StoreUnavailableError, type DirectoryStore, type MemberRef, type Page } from '../directory/store.js';
import { Coalescer } from './coalesce.js';

export interface Dialect {
  /** Placeholder for the n-th (1-based) parameter. */
  param(n: number): string;
  quote(ident: string): string;
  /** Whether LIKE compares case-sensitively (PostgreSQL yes, SQLite no). */
  likeIsCaseSensitive: boolean;
  /** How the SQL says "equal", "not empty" and LIKE where it means them exactly (code points,
   * case, accents and trailing spaces all significant). Absent: plain `=`, `<> ''` and LIKE (or
   * GLOB when LIKE ignores case), which are exact in PostgreSQL and SQLite. MySQL and MariaDB
   * compare strings by the column's collation: usually case- and accent-insensitive, and
   * trailing-space-insensitive (PAD SPACE) even in utf8mb4_bin. */
  exact?: {
    /** `expr` equals the bound value; `bind()` binds the value (again) at each call, in text order. */
    equals(expr: string, bind: () => string): string;
    /** `expr` is not the empty string. */
    nonEmpty(expr: string): string;
    /** `expr` matches the bound LIKE pattern (escaped with "\\", case as given). */
    like(expr: string, bind: () => string): string;
  };
  /** A bound integer as a 64-bit integer; default `CAST(p AS BIGINT)`. */
  bigint?(param: string): string;
  /** A UTC instant as the text a timestamp column compares with; default naive UTC with
   * microseconds, `YYYY-MM-DD HH:MM:SS.ffffff`, as Django stores it in SQLite and MySQL (with
   * USE_TZ, in UTC). */
  timestamp?(d: Date): string;
  /** A LIMIT's bound row count; default the placeholder as it is. */
  limit?(param: string): string;
  /** `expr` is one of a bound array of integers; absent: an IN list of one parameter each. */
  anyOf?(expr: string, param: string): string;
  /** An aggregate joining a group's integer `expr` values with commas, with no length limit
   * (so not MySQL's GROUP_CONCAT, cut at group_concat_max_len); absent: one row per value. */
  joinIds?(expr: string): string;
  /** How much of a client-shaped scan one statement may do, in rows times predicate terms;
   * set where nothing else bounds a statement (SQLite: no statement timeout, no interrupt,
   * and a synchronous driver). A scan no index narrows then runs in id windows of
   * scanBudget / terms rows, one statement each, yielding between them (see scanPage).
   * Absent: one statement, bounded by the server's statement timeout. */
  scanBudget?: number;
  /** Bound text arrays of one length as rows with their 1-based position: `k(names..., i)`.
   * Where present (and the name columns are text: `namesAreText`), lookups by name that arrive
   * in one event-loop turn share one statement (coalesce.ts). Absent: a statement per lookup
   * (SQLite answers synchronously: nothing arrives while it runs). */
  textRows?(params: string[], names: string[]): string;
}

/** The narrowest id window a windowed scan reads per statement, however costly the filter. */
const MIN_SCAN_WINDOW = 32;

/** How many terms a predicate evaluates per row: the cost of one row of a scan. */
function predicateTerms<F extends string>(p: Predicate<F>): number {
  switch (p.op) {
    case 'and':
    case 'or':
      return p.items.reduce((n, i) => n + predicateTerms(i), 1);
    case 'not':
      return 1 + predicateTerms(p.item);
    case 'like':
      return 1 + p.any.length;
    default:
      return 1;
  }
}

/** Whether an index (the primary key, or the unique `indexed` field) narrows the rows a
 * predicate can match to a few lookups, whatever the table's size. */
function indexNarrows<F extends string>(p: Predicate<F>, indexed: F): boolean {
  switch (p.op) {
    case 'none':
      return true;
    case 'and':
      return p.items.some((i) => indexNarrows(i, indexed));
    case 'or':
      return p.items.length > 0 && p.items.every((i) => indexNarrows(i, indexed));
    case 'eq':
      return p.field === 'id' || (p.field === indexed && !p.ci);
    default:
      return false;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type Row = Record<string, unknown>;

/** Shapes of the hot statements whose texts are kept (SqlStore.hotText): a kind, and for the
 * lookups of users by name (alone or gathered) the flags their text depends on. */
const HOT = {
  byName: 1,
  byNameCi: 2,
  membership: 3,
  membershipActive: 4,
  membershipsNamed: 5,
  membershipsNamedActive: 6,
  findByName: 16,
  usersNamed: 32,
  active: 1,
  hashes: 2,
} as const;

/** Collects bound parameters while SQL text is built. */
class Params {
  readonly values: unknown[] = [];
  constructor(private readonly d: Dialect) {}
  add(v: unknown): string {
    this.values.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    return this.d.param(this.values.length);
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[]/g, (c) => `[${c}]`);
}

function toBool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't' || v === 'true' || v === 1n;
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v;
  // SQLite stores Django datetimes as text "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC when USE_TZ);
  // PostgreSQL's timestamptz comes as text too, "YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]".
  let s = String(v).replace(' ', 'T');
  if (/[+-]\d\d$/.test(s)) s += ':00';
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s + 'Z');
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: the text Django's SQLite and MySQL backends store. */
export function naiveUtc(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000`;
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A column's value as the User model holds it. */
function columnValue(kind: ColumnKind, v: unknown): string | number | boolean | Date | null {
  if (v === null || v === undefined) return null;
  if (kind === 'int') return Number(v);
  if (kind === 'bool') return toBool(v);
  if (kind === 'time') return toDate(v);
  return String(v);
}

/** Each user column is read under its Django default name (a plain lower-case identifier,
 * whatever the configured column is called), so a row's keys are the same on every database;
 * one Django's User lacks goes by its field name in lower case. */
const alias = (c: { field: string; default: string | null }): string => c.default ?? c.field.toLowerCase();
/** Fields whose column holds no text: "present" is only IS NOT NULL there (no empty string). */
const nonText = (cs: readonly { field: string; kind: ColumnKind }[]): ReadonlySet<string> => new Set(cs.filter((c) => c.kind !== 'text').map((c) => c.field));
const NON_TEXT_USER_FIELDS = nonText(USER_COLUMNS);
const NON_TEXT_GROUP_FIELDS = nonText(GROUP_COLUMNS);

/** A user row. The dates are parsed only when read: binds and Apache's searches never do. */
class StoredUser implements User {
  readonly id: number;
  readonly username: string;
  readonly password: string;
  readonly isActive: boolean;
  readonly isStaff: boolean | null;
  readonly isSuperuser: boolean | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  private readonly joined: unknown;
  private readonly login: unknown;
  constructor(r: Row) {
    this.id = Number(r.id);
    this.username = String(r.username);
    this.password = r.password === null || r.password === undefined ? '' : String(r.password);
    this.isActive = toBool(r.is_active);
    this.isStaff = r.is_staff === null || r.is_staff === undefined ? null : toBool(r.is_staff);
    this.isSuperuser = r.is_superuser === null || r.is_superuser === undefined ? null : toBool(r.is_superuser);
    this.firstName = str(r.first_name);
    this.lastName = str(r.last_name);
    this.email = str(r.email);
    this.joined = r.date_joined;
    this.login = r.last_login;
    // Columns an attribute row adds have no named property: filled by name (none by default).
    for (const c of EXTRA_USER_COLUMNS) (this as unknown as Record<string, unknown>)[c.field] = columnValue(c.kind, r[alias(c)]);
  }
  get dateJoined(): Date | null {
    return toDate(this.joined);
  }
  get lastLogin(): Date | null {
    return toDate(this.login);
  }
}

export abstract class SqlStore implements DirectoryStore {
  abstract readonly kind: string;
  readonly hasGroups: boolean;
  readonly hasPermissions: boolean;
  protected readonly q: (s: string) => string;

  // Quoted identifiers, computed once.
  private readonly U: string;
  private readonly userCols: string;
  /** The same without the stored hash (read as ''). */
  private readonly userColsNoHash: string;
  private readonly uid: string;
  private readonly uname: string;
  private readonly uactive: string;
  private readonly usuper: string | null;
  /** The quoted column of each user field a predicate may name (never the hash). */
  private readonly userColumns: Map<string, string>;
  /** Whether lookups by name arriving together share a statement (set by verifySchema). */
  private gather = false;
  /** Gathered lookups of users by exact name: with hashes (binds) and without, active or all. */
  private readonly gatheredUsers = new Map<string, Coalescer<string, User[]>>();
  /** Gathered membership tests (`group NUL user`), active members only or all. */
  private readonly gatheredMemberships = new Map<boolean, Coalescer<string, { group: boolean; member: boolean }>>();
  /** The texts of the statements every bind, search and compare of Apache runs, by shape (see
   * hotText): one string object each, kept from the first time it was built. */
  private readonly hotTexts = new Map<number, string>();
  /** The same texts, to tell a hot lookup from any other statement (isHot). */
  private readonly hotSet = new Set<string>();

  constructor(
    protected readonly map: DjangoMapping,
    protected readonly dialect: Dialect,
  ) {
    this.q = dialect.quote;
    const u = map.users;
    this.hasGroups = !!(map.userGroups && map.groups);
    this.hasPermissions = !!map.permissions;
    this.U = this.q(u.table);
    const cols = (withHash: boolean) =>
      USER_COLUMNS.map((c) => {
        const name = userColumnName(u, c);
        if (c.kind === 'hash' && !withHash) return `'' AS ${alias(c)}`;
        return name ? `u.${this.q(name)} AS ${alias(c)}` : `NULL AS ${alias(c)}`;
      }).join(', ');
    this.userColumns = new Map();
    for (const c of USER_COLUMNS) {
      const name = userColumnName(u, c);
      if (name && c.kind !== 'hash') this.userColumns.set(c.field, `u.${this.q(name)}`);
    }
    this.userCols = cols(true);
    this.userColsNoHash = cols(false);
    this.uid = `u.${this.q(u.id)}`;
    this.uname = `u.${this.q(u.username)}`;
    this.uactive = `u.${this.q(u.isActive)}`;
    this.usuper = u.isSuperuser ? `u.${this.q(u.isSuperuser)}` : null;
  }

  protected abstract query(sql: string, params: unknown[]): Promise<Row[]>;
  abstract close(): Promise<void>;

  /** Told of every query's duration (for metrics). */
  onQuery: ((seconds: number, ok: boolean) => void) | undefined;
  /** Told when the database stops answering and when it answers again (DirectoryStore). */
  onOutage: ((cause: string | undefined) => void) | undefined;
  /** The database failed its last query as unavailable: the outage has been told once. */
  private down = false;

  private async run(sql: string, params: unknown[]): Promise<Row[]> {
    const t = this.onQuery ? performance.now() : 0;
    let rows: Row[];
    try {
      rows = await this.query(sql, params);
    } catch (e) {
      this.onQuery?.((performance.now() - t) / 1000, false);
      if (e instanceof StoreUnavailableError && !this.down) {
        // Once per outage, not once per operation: a dropped table fails every operation.
        this.down = true;
        this.onOutage?.(e.message);
      }
      throw e;
    }
    this.onQuery?.((performance.now() - t) / 1000, true);
    if (this.down) {
      this.down = false;
      this.onOutage?.(undefined);
    }
    return rows;
  }

  async ping(): Promise<void> {
    await this.run('SELECT 1', []);
  }

  private rowToUser(r: Row): User {
    return new StoredUser(r);
  }

  // ------------------------------------------------------------ schema

  async verifySchema(): Promise<void> {
    const checks = mappedTables(this.map);
    // Reach the database first, so "cannot connect" or "password authentication failed" is
    // said as such and not as a missing table. Unavailability propagates (callers retry); a
    // missing database, table or column (SchemaGoneError) is a schema problem at start.
    try {
      await this.run('SELECT 1', []);
    } catch (e) {
      if (e instanceof StoreUnavailableError && !(e instanceof SchemaGoneError)) throw e;
      throw new SchemaError(`database: ${(e as Error).message}`);
    }
    const problems: string[] = [];
    for (const { setting: tableSetting, table, columns } of checks) {
      try {
        await this.run(`SELECT 1 FROM ${this.q(table)} WHERE 1=0`, []);
      } catch (e) {
        if (e instanceof StoreUnavailableError && !(e instanceof SchemaGoneError)) throw e;
        problems.push(`${tableSetting}: table "${table}" not found in the database (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      for (const { setting, column } of columns) {
        if (!column) continue;
        try {
          await this.run(`SELECT ${this.q(column)} FROM ${this.q(table)} WHERE 1=0`, []);
        } catch (e) {
          if (e instanceof StoreUnavailableError && !(e instanceof SchemaGoneError)) throw e;
          problems.push(`${setting}: column "${column}" not found in table "${table}"`);
        }
      }
    }
    if (problems.length) throw new SchemaError(problems.join('\n'));
    this.gather = this.dialect.textRows !== undefined && (await this.namesAreText());
  }

  /** Whether the user name and group name columns compare as plain text (so a gathered
   * statement's `column = text` matches exactly what `column = $1` matches alone; a citext
   * column would not). Stores with Dialect.textRows answer from their catalog. */
  protected async namesAreText(): Promise<boolean> {
    return false;
  }

  /** Whether a statement sent now would wait for a pooled connection. */
  protected busy(): boolean {
    return true;
  }

  /** How many lookups may be on their way at once before they are gathered: the pool's size
   * (a client with that many requests at once keeps the database busy). */
  protected gatherAbove(): number {
    return 0;
  }

  /** Gathered-kind lookups asked and not yet answered, of every kind. */
  private lookups = 0;

  private async gathered<V>(c: Coalescer<string, V>, k: string): Promise<V> {
    this.lookups++;
    try {
      return await c.get(k);
    } finally {
      this.lookups--;
    }
  }

  /** Lookups are gathered (coalesce.ts) when more are on their way than the pool has
   * connections, or when the next would wait for one; a lighter load sends each at once. */
  private readonly crowded = (): boolean => this.lookups > this.gatherAbove() || this.busy();

  // ------------------------------------------------------------ predicates

  private userColumn(f: UserField): string | null {
    return this.userColumns.get(f) ?? null;
  }

  private groupColumn(f: GroupField): string | null {
    const g = this.map.groups;
    if (!g) return null;
    return `g.${this.q(f === 'id' ? g.id : g.name)}`;
  }

  /** lower() as JavaScript's toLowerCase() folds toward ASCII. Two non-ASCII letters lower-case to
   * ASCII in JavaScript: U+0130 (İ -> "i" + U+0307) and U+212A (Kelvin sign -> "k"). SQLite's
   * lower() leaves both alone and PostgreSQL's (UTF-8 locales) makes İ a bare "i", so map them
   * first; every other fold agrees on whether a letter ends up ASCII, which is all that matters
   * for the ASCII-only values the planner pushes down. */
  private lower(c: string): string {
    if (this.kind !== 'postgres') return `lower(replace(replace(${c}, '\u0130', 'i\u0307'), '\u212a', 'k'))`;
    // PostgreSQL converts the query text to the database encoding, and a non-UTF-8 database can
    // neither spell nor hold these letters: build them from bytes, in UTF-8 databases only.
    const u = (hex: string) => `convert_from(decode('${hex}', 'hex'), 'UTF8')`;
    return `lower(CASE WHEN getdatabaseencoding() = 'UTF8' THEN replace(replace(${c}, ${u('c4b0')}, ${u('69cc87')}), ${u('e284aa')}, 'k') ELSE ${c} END)`;
  }

  /** A bound value; numbers as BIGINT, or PostgreSQL types the parameter after an int4 column
   * and rejects a value past 2^31 instead of matching nothing. */
  private value(v: string | number | boolean | Date, ps: Params): string {
    if (v instanceof Date) return ps.add(this.dialect.timestamp ? this.dialect.timestamp(v) : naiveUtc(v));
    if (typeof v !== 'number') return ps.add(v);
    return this.dialect.bigint ? this.dialect.bigint(ps.add(v)) : `CAST(${ps.add(v)} AS BIGINT)`;
  }

  /**
   * The statement text of a hot lookup's `shape`, the same string object every time. Every
   * driver keeps its prepared statements by text (better-sqlite3's here, pg's names, mysql2's
   * cache): a text built afresh is a new string that must be flattened and hashed, ~400
   * characters, on every query, where a kept one has its hash already (the profile of Apache's
   * mix put ~4% of the bridge's CPU there). The caller still builds `sql`, whose parts are
   * concatenated lazily and never flattened when the kept text is used, so its values come
   * from the one code path; `shape` must name everything the text depends on (the length
   * check only catches a mistake in that).
   */
  private hotText(shape: number, sql: string): string {
    const kept = this.hotTexts.get(shape);
    if (kept !== undefined && kept.length === sql.length) return kept;
    if (kept !== undefined) this.hotSet.delete(kept);
    this.hotTexts.set(shape, sql);
    this.hotSet.add(sql);
    return sql;
  }

  /** `sql` is one of the hot lookups (hotText): indexed lookups of a user or a membership by
   * name, alone or a turn's gathered, short whatever the data. */
  protected isHot(sql: string): boolean {
    return this.hotSet.has(sql);
  }

  /** `expr` equals the bound value exactly (Dialect.exact); `bind()` binds it once per call. */
  private equalsExactly(expr: string, bind: () => string): string {
    return this.dialect.exact ? this.dialect.exact.equals(expr, bind) : `${expr} = ${bind()}`;
  }

  private where<F extends string>(p: Predicate<F>, col: (f: F) => string | null, ps: Params, nonText: ReadonlySet<string>): string {
    switch (p.op) {
      case 'all':
        return '1=1';
      case 'none':
        return '1=0';
      case 'and':
      case 'or':
        if (p.items.length === 0) return p.op === 'and' ? '1=1' : '1=0';
        {
          // Balanced, not a flat chain: SQLite parses `a OR b OR c ...` as a left-deep tree and
          // refuses one deeper than 1000 ("Expression tree is too large"). The parts are built
          // in text order first, so positional parameters keep their order.
          const parts = p.items.map((i) => this.where(i, col, ps, nonText));
          const op = p.op === 'and' ? ' AND ' : ' OR ';
          const join = (lo: number, hi: number): string => {
            if (hi - lo === 1) return parts[lo];
            const mid = (lo + hi) >> 1;
            return `(${join(lo, mid)}${op}${join(mid, hi)})`;
          };
          return join(0, parts.length);
        }
      case 'not':
        return `(NOT ${this.where(p.item, col, ps, nonText)})`;
      case 'present': {
        const c = col(p.field);
        if (!c) return '1=0';
        if (nonText.has(p.field)) return `(${c} IS NOT NULL)`;
        return `(${c} IS NOT NULL AND ${this.dialect.exact ? this.dialect.exact.nonEmpty(c) : `${c} <> ''`})`;
      }
      case 'eq': {
        const c = col(p.field);
        if (!c) return '1=0';
        if (typeof p.value === 'boolean') return p.value ? `(${c} IS NOT NULL AND ${c})` : `(${c} IS NOT NULL AND NOT ${c})`;
        if (p.ci) return this.equalsExactly(this.lower(c), () => ps.add(String(p.value).toLowerCase()));
        if (typeof p.value === 'string') return this.equalsExactly(c, () => ps.add(p.value));
        return `${c} = ${this.value(p.value, ps)}`;
      }
      case 'cmp': {
        const c = col(p.field);
        if (!c) return '1=0';
        return `${c} ${p.dir === 'ge' ? '>=' : '<='} ${this.value(p.value, ps)}`;
      }
      case 'like': {
        const c = col(p.field);
        if (!c) return '1=0';
        if (!p.ci && !this.dialect.likeIsCaseSensitive && !this.dialect.exact) {
          // SQLite's LIKE ignores ASCII case (wrong under NOT); GLOB is its case-sensitive twin.
          const glob = escapeGlob(p.initial ?? '') + '*' + p.any.map((a) => escapeGlob(a) + '*').join('') + escapeGlob(p.final ?? '');
          return `${c} GLOB ${ps.add(glob)}`;
        }
        const fold = (s: string) => (p.ci ? s.toLowerCase() : s);
        const pattern = (p.initial !== undefined ? escapeLike(fold(p.initial)) : '') + '%' + p.any.map((a) => escapeLike(fold(a)) + '%').join('') + (p.final !== undefined ? escapeLike(fold(p.final)) : '');
        if (this.dialect.exact) return this.dialect.exact.like(p.ci ? this.lower(c) : c, () => ps.add(pattern));
        return `${p.ci ? this.lower(c) : c} LIKE ${ps.add(pattern)} ESCAPE '\\'`;
      }
    }
  }

  // ------------------------------------------------------------ users

  async usersByUsername(username: string, caseInsensitive: boolean): Promise<User[]> {
    // No stored name holds NUL (Django refuses it; in PostgreSQL text it is an error, not a miss).
    if (username.includes('\0')) return [];
    if (this.gather && !caseInsensitive) return (await this.gathered(this.usersGathered(true, false), username)).slice();
    return this.usersByUsernameAlone(username, caseInsensitive);
  }

  private async usersByUsernameAlone(username: string, caseInsensitive: boolean): Promise<User[]> {
    // Exact, or lower() = lower() compared exactly: under MySQL's collations a plain `=` would
    // also take accent and trailing-space variants (the directory then picks among the rows).
    const ps = new Params(this.dialect);
    const cond = caseInsensitive ? this.equalsExactly(`lower(${this.uname})`, () => `lower(${ps.add(username)})`) : this.equalsExactly(this.uname, () => ps.add(username));
    const rows = await this.run(this.hotText(caseInsensitive ? HOT.byNameCi : HOT.byName, `SELECT ${this.userCols} FROM ${this.U} u WHERE ${cond} ORDER BY ${this.uid} LIMIT 5`), ps.values);
    return rows.map((r) => this.rowToUser(r));
  }

  async findUsers(pred: UserPredicate, page: Page, activeOnly: boolean, withHashes = false): Promise<User[]> {
    // A search for one user by exact name from the start (what Apache asks with every
    // request): gathered with the others of this turn.
    if (this.gather && pred.op === 'eq' && pred.field === 'username' && !pred.ci && typeof pred.value === 'string' && !pred.value.includes('\0') && page.afterId < 1) {
      return (await this.gathered(this.usersGathered(withHashes, activeOnly), pred.value)).slice(0, page.limit);
    }
    return this.findUsersAlone(pred, page, activeOnly, withHashes);
  }

  private usersGathered(withHashes: boolean, activeOnly: boolean): Coalescer<string, User[]> {
    const key = `${withHashes}/${activeOnly}`;
    let c = this.gatheredUsers.get(key);
    if (!c) {
      c = new Coalescer<string, User[]>(
        (name) => (withHashes && !activeOnly ? this.usersByUsernameAlone(name, false) : this.findUsersAlone({ op: 'eq', field: 'username', value: name, ci: false }, { afterId: 0, limit: 5 }, activeOnly, withHashes)),
        (names) => this.usersNamed(names, withHashes, activeOnly),
        () => [],
        this.crowded,
      );
      this.gatheredUsers.set(key, c);
    }
    return c;
  }

  /** The users of each exact name, in id order (at most 5 each, as a lookup alone): one statement. */
  private async usersNamed(names: string[], withHashes: boolean, activeOnly: boolean): Promise<Map<string, User[]>> {
    const ps = new Params(this.dialect);
    const k = (this.dialect.textRows as NonNullable<Dialect['textRows']>)([ps.add(names)], ['v']);
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    // LATERAL with its own LIMIT: one index lookup per name, as each statement alone (a plain
    // join may be planned as a scan of the whole user table).
    const one = `SELECT ${withHashes ? this.userCols : this.userColsNoHash} FROM ${this.U} u WHERE ${this.uname} = k.v${active} ORDER BY ${this.uid} LIMIT 5`;
    const rows = await this.run(this.hotText(HOT.usersNamed | (activeOnly ? HOT.active : 0) | (withHashes ? HOT.hashes : 0), `SELECT k.i AS dlb_i, x.* FROM ${k} CROSS JOIN LATERAL (${one}) x ORDER BY k.i, x.id`), ps.values);
    const out = new Map<string, User[]>();
    for (const r of rows) {
      const name = names[Number(r.dlb_i) - 1];
      let list = out.get(name);
      if (!list) out.set(name, (list = []));
      list.push(this.rowToUser(r));
    }
    return out;
  }

  private async findUsersAlone(pred: UserPredicate, page: Page, activeOnly: boolean, withHashes: boolean): Promise<User[]> {
    const ps = new Params(this.dialect);
    const w = this.where(pred, (f) => this.userColumn(f), ps, NON_TEXT_USER_FIELDS);
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    const select = `SELECT ${withHashes ? this.userCols : this.userColsNoHash} FROM ${this.U} u WHERE ${w}${active}`;
    // One user by exact name (Apache's search): its text kept by shape (hotText).
    const shape = pred.op === 'eq' && pred.field === 'username' && typeof pred.value === 'string' && !pred.ci ? HOT.findByName | (activeOnly ? HOT.active : 0) | (withHashes ? HOT.hashes : 0) : undefined;
    const windowed = !indexNarrows(pred, 'username');
    return (await this.scanPage(select, this.U + ' u', this.uid, ps, page, windowed ? predicateTerms(pred) : undefined, shape)).map((r) => this.rowToUser(r));
  }

  /**
   * A page of `select`'s rows (its WHERE clause open for more) with `id` after page.afterId, in
   * id order. With `terms` (a predicate no index narrows) on a dialect with a scanBudget, the
   * scan runs in id windows (`id > ? AND id <= ?`) of scanBudget / terms rows, one statement
   * each, yielding to the event loop between windows and stopping at page.deadline
   * (ScanTimeLimitError): however costly the filter and however big the table, no statement
   * holds a synchronous driver for longer than one window.
   */
  private async scanPage(select: string, from: string, id: string, ps: Params, page: Page, terms: number | undefined, shape?: number): Promise<Row[]> {
    const budget = this.dialect.scanBudget;
    if (terms === undefined || budget === undefined) {
      const sql = `${select} AND ${id} > ${ps.add(page.afterId)} ORDER BY ${id} LIMIT ${this.limit(ps.add(page.limit))}`;
      return this.run(shape === undefined ? sql : this.hotText(shape, sql), ps.values);
    }
    const window = Math.max(MIN_SCAN_WINDOW, Math.floor(budget / terms));
    const top = Number((await this.run(`SELECT max(${id}) AS top FROM ${from}`, []))[0]?.top ?? 0);
    const first = ps.values.length;
    const sql = `${select} AND ${id} > ${ps.add(0)} AND ${id} <= ${ps.add(0)} ORDER BY ${id} LIMIT ${this.limit(ps.add(0))}`;
    const values = ps.values;
    const rows: Row[] = [];
    for (let lo = page.afterId; lo < top; lo += window) {
      if (lo !== page.afterId) {
        await nextTurn();
        if (page.deadline !== undefined && Date.now() > page.deadline) throw new ScanTimeLimitError('the search reached its time limit');
      }
      values[first] = lo;
      values[first + 1] = lo + window;
      values[first + 2] = page.limit - rows.length;
      for (const r of await this.run(sql, values)) rows.push(r);
      if (rows.length >= page.limit) break;
    }
    return rows;
  }

  private limit(param: string): string {
    return this.dialect.limit ? this.dialect.limit(param) : param;
  }

  /** `expr` is one of the ids. */
  private inIds(expr: string, ids: number[], ps: Params): string {
    if (this.dialect.anyOf) return this.dialect.anyOf(expr, ps.add(ids));
    return `${expr} IN (${ids.map((id) => ps.add(id)).join(', ')})`;
  }

  async groupIdsOfUsers(userIds: number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    const ug = this.map.userGroups;
    if (!ug || !this.map.groups || userIds.length === 0) return out;
    // Ids only, no join for the names: the directory knows the names of the groups it has
    // seen, and a page of users repeats the same groups many times over.
    const ps = new Params(this.dialect);
    const user = `ug.${this.q(ug.userColumn)}`;
    const where = this.inIds(user, userIds, ps);
    const agg = this.dialect.joinIds;
    if (agg) {
      // One row per user with its ids joined by commas: twenty times fewer rows to decode.
      const rows = await this.run(`SELECT ${user} AS uid, ${agg(`ug.${this.q(ug.otherColumn)}`)} AS gids FROM ${this.q(ug.table)} ug WHERE ${where} GROUP BY ${user}`, ps.values);
      for (const r of rows) out.set(Number(r.uid), String(r.gids).split(',').map(Number));
      return out;
    }
    const sql = `SELECT ${user} AS uid, ug.${this.q(ug.otherColumn)} AS gid FROM ${this.q(ug.table)} ug WHERE ${where}`;
    for (const r of await this.run(sql, ps.values)) {
      const uid = Number(r.uid);
      let list = out.get(uid);
      if (!list) out.set(uid, (list = []));
      list.push(Number(r.gid));
    }
    return out;
  }

  async sshKeysOfUsers(userIds: number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    const k = this.map.sshKeys;
    if (!k || userIds.length === 0) return out;
    const ps = new Params(this.dialect);
    const user = `k.${this.q(k.userColumn)}`;
    let where = this.inIds(user, userIds, ps);
    if (k.activeColumn) where += ` AND k.${this.q(k.activeColumn)}`; // a boolean column, as is_active is read
    const rows = await this.run(`SELECT ${user} AS uid, k.${this.q(k.keyColumn)} AS pk FROM ${this.q(k.table)} k WHERE ${where}`, ps.values);
    for (const r of rows) {
      if (typeof r.pk !== 'string' || r.pk.trim() === '') continue;
      const uid = Number(r.uid);
      let list = out.get(uid);
      if (!list) out.set(uid, (list = []));
      list.push(r.pk.trim());
    }
    return out;
  }

  async totpDevicesOfUser(userId: number): Promise<TotpDeviceRow[]> {
    const d = this.map.totpDevices;
    if (!d) return [];
    const q = (c: string) => `d.${this.q(c)}`;
    const cols = ['id', 'key', 'step', 't0', 'digits', 'tolerance', 'drift', 'confirmed', 'last_t'].map((c) => `${q(c)} AS ${this.q(`c_${c}`)}`).join(', ');
    const ps = new Params(this.dialect);
    const rows = await this.run(`SELECT ${cols} FROM ${this.q(d.table)} d WHERE ${q('user_id')} = ${this.value(userId, ps)} ORDER BY ${q('id')}`, ps.values);
    return rows.map((r) => ({
      id: Number(r.c_id),
      key: String(r.c_key ?? ''),
      step: Number(r.c_step),
      t0: Number(r.c_t0),
      digits: Number(r.c_digits),
      tolerance: Number(r.c_tolerance),
      drift: Number(r.c_drift),
      confirmed: toBool(r.c_confirmed),
      lastT: Number(r.c_last_t),
    }));
  }

  async usersWithConfirmedTotp(): Promise<number> {
    const d = this.map.totpDevices;
    if (!d) return 0;
    const rows = await this.run(`SELECT COUNT(DISTINCT d.${this.q('user_id')}) AS n FROM ${this.q(d.table)} d WHERE d.${this.q('confirmed')}`, []);
    return Number(rows[0]?.n ?? 0);
  }

  async groupsByIds(ids: number[]): Promise<Group[]> {
    const g = this.map.groups;
    if (!g || ids.length === 0) return [];
    const ps = new Params(this.dialect);
    const sql = `SELECT g.${this.q(g.id)} AS id, g.${this.q(g.name)} AS name FROM ${this.q(g.table)} g WHERE ${this.inIds(`g.${this.q(g.id)}`, ids, ps)}`;
    return (await this.run(sql, ps.values)).map((r) => ({ id: Number(r.id), name: String(r.name) }));
  }

  async permissionIdsOfUsers(userIds: number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    if (!this.map.permissions || userIds.length === 0) return out;
    const parts: string[] = [];
    const ps = new Params(this.dialect);
    const up = this.map.userPermissions;
    if (up) {
      parts.push(`SELECT up.${this.q(up.userColumn)} AS uid, up.${this.q(up.otherColumn)} AS pid FROM ${this.q(up.table)} up WHERE ${this.inIds(`up.${this.q(up.userColumn)}`, userIds, ps)}`);
    }
    const ug = this.map.userGroups;
    const gp = this.map.groups?.permissions;
    if (ug && gp) {
      parts.push(
        `SELECT ug.${this.q(ug.userColumn)} AS uid, gp.${this.q(gp.permissionColumn)} AS pid FROM ${this.q(ug.table)} ug JOIN ${this.q(gp.table)} gp ON gp.${this.q(gp.groupColumn)} = ug.${this.q(ug.otherColumn)} WHERE ${this.inIds(`ug.${this.q(ug.userColumn)}`, userIds, ps)}`,
      );
    }
    if (!parts.length) return out;
    // UNION ALL: an id held both directly and through a group (or through two groups) is
    // listed twice, and the directory keeps one; PostgreSQL's de-duplication of a page's
    // 40,000 joined rows (a thousand users in twenty groups of two permissions) took half of
    // the statement's time.
    const union = parts.join(' UNION ALL ');
    const agg = this.dialect.joinIds;
    if (agg) {
      // One row per user with its ids joined by commas, as for groups: 1,000 rows for such a
      // page, not 40,000 (their decoding and garbage were a quarter of a paged export's CPU).
      const rows = await this.run(`SELECT x.uid AS uid, ${agg('x.pid')} AS pids FROM (${union}) x GROUP BY x.uid`, ps.values);
      for (const r of rows) out.set(Number(r.uid), String(r.pids).split(',').map(Number));
      return out;
    }
    for (const r of await this.run(union, ps.values)) {
      const uid = Number(r.uid);
      let list = out.get(uid);
      if (!list) out.set(uid, (list = []));
      list.push(Number(r.pid));
    }
    return out;
  }

  // ------------------------------------------------------------ groups

  async findGroups(pred: GroupPredicate, page: Page): Promise<Group[]> {
    const g = this.map.groups;
    if (!g || !this.hasGroups) return [];
    const ps = new Params(this.dialect);
    const w = this.where(pred, (f) => this.groupColumn(f), ps, NON_TEXT_GROUP_FIELDS);
    const gid = `g.${this.q(g.id)}`;
    const select = `SELECT ${gid} AS id, g.${this.q(g.name)} AS name FROM ${this.q(g.table)} g WHERE ${w}`;
    const rows = await this.scanPage(select, `${this.q(g.table)} g`, gid, ps, page, indexNarrows(pred, 'name') ? undefined : predicateTerms(pred));
    return rows.map((r) => ({ id: Number(r.id), name: String(r.name) }));
  }

  async groupsByName(name: string, caseInsensitive: boolean): Promise<Group[]> {
    if (name.includes('\0')) return [];
    const g = this.map.groups;
    if (!g || !this.hasGroups) return [];
    const n = `g.${this.q(g.name)}`;
    const ps = new Params(this.dialect);
    const cond = caseInsensitive ? this.equalsExactly(`lower(${n})`, () => `lower(${ps.add(name)})`) : this.equalsExactly(n, () => ps.add(name));
    const rows = await this.run(`SELECT g.${this.q(g.id)} AS id, ${n} AS name FROM ${this.q(g.table)} g WHERE ${cond} ORDER BY g.${this.q(g.id)} LIMIT 5`, ps.values);
    return rows.map((r) => ({ id: Number(r.id), name: String(r.name) }));
  }

  async groupMembers(groupId: number, page: Page, activeOnly: boolean): Promise<MemberRef[]> {
    const ug = this.map.userGroups;
    if (!ug) return [];
    const ps = new Params(this.dialect);
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    const sql = `SELECT ${this.uid} AS id, ${this.uname} AS username FROM ${this.q(ug.table)} ug JOIN ${this.U} u ON ${this.uid} = ug.${this.q(ug.userColumn)} WHERE ug.${this.q(ug.otherColumn)} = ${ps.add(groupId)}${active} AND ${this.uid} > ${ps.add(page.afterId)} ORDER BY ${this.uid} LIMIT ${this.limit(ps.add(page.limit))}`;
    return (await this.run(sql, ps.values)).map((r) => ({ id: Number(r.id), username: String(r.username) }));
  }

  async isGroupMember(groupId: number, userId: number): Promise<boolean> {
    const ug = this.map.userGroups;
    if (!ug) return false;
    const p = this.dialect.param;
    const rows = await this.run(`SELECT 1 AS ok FROM ${this.q(ug.table)} WHERE ${this.q(ug.userColumn)} = ${p(1)} AND ${this.q(ug.otherColumn)} = ${p(2)} LIMIT 1`, [userId, groupId]);
    return rows.length > 0;
  }

  async groupPermissionIds(groupIds: number[]): Promise<Map<number, number[]>> {
    const out = new Map<number, number[]>();
    const gp = this.map.groups?.permissions;
    if (!gp || !this.map.permissions || groupIds.length === 0) return out;
    const ps = new Params(this.dialect);
    const sql = `SELECT ${this.q(gp.groupColumn)} AS gid, ${this.q(gp.permissionColumn)} AS pid FROM ${this.q(gp.table)} WHERE ${this.inIds(`${this.q(gp.groupColumn)}`, groupIds, ps)}`;
    for (const r of await this.run(sql, ps.values)) {
      const gid = Number(r.gid);
      let list = out.get(gid);
      if (!list) out.set(gid, (list = []));
      list.push(Number(r.pid));
    }
    return out;
  }

  async groupMembership(groupName: string, username: string, activeOnly: boolean): Promise<{ group: boolean; member: boolean }> {
    if (groupName.includes('\0') || username.includes('\0')) return { group: false, member: false }; // the exact path answers
    if (this.gather && this.map.groups && this.map.userGroups) return this.gathered(this.membershipsGathered(activeOnly), `${groupName}\0${username}`);
    return this.groupMembershipAlone(groupName, username, activeOnly);
  }

  private membershipsGathered(activeOnly: boolean): Coalescer<string, { group: boolean; member: boolean }> {
    let c = this.gatheredMemberships.get(activeOnly);
    if (!c) {
      const split = (k: string): [string, string] => [k.slice(0, k.indexOf('\0')), k.slice(k.indexOf('\0') + 1)];
      c = new Coalescer(
        (k: string) => this.groupMembershipAlone(...split(k), activeOnly),
        (ks: string[]) => this.membershipsOf(ks.map(split), activeOnly),
        () => ({ group: false, member: false }),
        this.crowded,
      );
      this.gatheredMemberships.set(activeOnly, c);
    }
    return c;
  }

  /** groupMembership for several (group, user) pairs: one statement. */
  private async membershipsOf(pairs: Array<[string, string]>, activeOnly: boolean): Promise<Map<string, { group: boolean; member: boolean }>> {
    const g = this.map.groups as NonNullable<DjangoMapping['groups']>;
    const ug = this.map.userGroups as NonNullable<DjangoMapping['userGroups']>;
    const ps = new Params(this.dialect);
    const k = (this.dialect.textRows as NonNullable<Dialect['textRows']>)([ps.add(pairs.map((p) => p[0])), ps.add(pairs.map((p) => p[1]))], ['g', 'v']);
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    const member = `EXISTS (SELECT 1 FROM ${this.q(ug.table)} ug JOIN ${this.U} u ON ${this.uid} = ug.${this.q(ug.userColumn)} WHERE ug.${this.q(ug.otherColumn)} = g.${this.q(g.id)} AND ${this.uname} = k.v${active})`;
    const rows = await this.run(this.hotText(activeOnly ? HOT.membershipsNamedActive : HOT.membershipsNamed, `SELECT k.i AS dlb_i, CASE WHEN ${member} THEN 1 ELSE 0 END AS member FROM ${k} JOIN ${this.q(g.table)} g ON g.${this.q(g.name)} = k.g`), ps.values);
    const out = new Map<string, { group: boolean; member: boolean }>();
    for (const r of rows) {
      const [group, user] = pairs[Number(r.dlb_i) - 1];
      const key = `${group}\0${user}`;
      if (!out.has(key)) out.set(key, { group: true, member: toBool(r.member) });
    }
    return out;
  }

  private async groupMembershipAlone(groupName: string, username: string, activeOnly: boolean): Promise<{ group: boolean; member: boolean }> {
    const g = this.map.groups;
    const ug = this.map.userGroups;
    if (!g || !ug) return { group: false, member: false };
    const ps = new Params(this.dialect);
    const userIs = this.equalsExactly(this.uname, () => ps.add(username));
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    const member = `EXISTS (SELECT 1 FROM ${this.q(ug.table)} ug JOIN ${this.U} u ON ${this.uid} = ug.${this.q(ug.userColumn)} WHERE ug.${this.q(ug.otherColumn)} = g.${this.q(g.id)} AND ${userIs}${active})`;
    const sql = `SELECT CASE WHEN ${member} THEN 1 ELSE 0 END AS member FROM ${this.q(g.table)} g WHERE ${this.equalsExactly(`g.${this.q(g.name)}`, () => ps.add(groupName))} LIMIT 1`;
    const rows = await this.run(this.hotText(activeOnly ? HOT.membershipActive : HOT.membership, sql), ps.values);
    return rows.length ? { group: true, member: toBool(rows[0].member) } : { group: false, member: false };
  }

  async usernameHasPermission(username: string, permissionId: number): Promise<boolean> {
    if (username.includes('\0')) return false;
    const ps = new Params(this.dialect);
    const userIs = this.equalsExactly(this.uname, () => ps.add(username));
    const holds = this.holdsPermission(ps, permissionId);
    const cond = this.usuper ? `(${this.usuper} OR ${holds})` : `(${holds})`;
    const sql = `SELECT 1 AS ok FROM ${this.U} u WHERE ${userIs} AND ${this.uactive} AND ${cond} LIMIT 1`;
    return (await this.run(sql, ps.values)).length > 0;
  }

  // ------------------------------------------------------------ permissions

  async allPermissions(): Promise<Permission[]> {
    const p = this.map.permissions;
    if (!p) return [];
    const sql = `SELECT p.${this.q(p.id)} AS id, ct.${this.q(p.appLabel)} AS app_label, p.${this.q(p.codename)} AS codename, p.${this.q(p.name)} AS name FROM ${this.q(p.table)} p JOIN ${this.q(p.contentTypeTable)} ct ON ct.${this.q(p.contentTypeId)} = p.${this.q(p.contentType)} ORDER BY p.${this.q(p.id)}`;
    return (await this.run(sql, [])).map((r) => ({ id: Number(r.id), appLabel: String(r.app_label), codename: String(r.codename), name: String(r.name) }));
  }

  /** SQL for "user u holds permission <param>" without the superuser rule. */
  private holdsPermission(ps: Params, permissionId: number): string {
    const ors: string[] = [];
    const up = this.map.userPermissions;
    if (up) ors.push(`EXISTS (SELECT 1 FROM ${this.q(up.table)} up WHERE up.${this.q(up.userColumn)} = ${this.uid} AND up.${this.q(up.otherColumn)} = ${ps.add(permissionId)})`);
    const ug = this.map.userGroups;
    const gp = this.map.groups?.permissions;
    if (ug && gp) {
      ors.push(
        `EXISTS (SELECT 1 FROM ${this.q(ug.table)} ug JOIN ${this.q(gp.table)} gp ON gp.${this.q(gp.groupColumn)} = ug.${this.q(ug.otherColumn)} WHERE ug.${this.q(ug.userColumn)} = ${this.uid} AND gp.${this.q(gp.permissionColumn)} = ${ps.add(permissionId)})`,
      );
    }
    return ors.length ? ors.join(' OR ') : '1=0';
  }

  async permissionHolders(permissionId: number, page: Page, activeOnly: boolean): Promise<MemberRef[]> {
    const ps = new Params(this.dialect);
    const holds = this.holdsPermission(ps, permissionId);
    const cond = this.usuper ? `(${this.usuper} OR ${holds})` : `(${holds})`;
    const active = activeOnly ? ` AND ${this.uactive}` : '';
    const sql = `SELECT ${this.uid} AS id, ${this.uname} AS username FROM ${this.U} u WHERE ${cond}${active} AND ${this.uid} > ${ps.add(page.afterId)} ORDER BY ${this.uid} LIMIT ${this.limit(ps.add(page.limit))}`;
    return (await this.run(sql, ps.values)).map((r) => ({ id: Number(r.id), username: String(r.username) }));
  }

  async userHasPermission(userId: number, permissionId: number): Promise<boolean> {
    // Parameters are added in text order: SQLite's `?` placeholders are positional.
    const ps = new Params(this.dialect);
    const idParam = ps.add(userId);
    const holds = this.holdsPermission(ps, permissionId);
    const sql = `SELECT 1 AS ok FROM ${this.U} u WHERE ${this.uid} = ${idParam} AND (${holds})`;
    return (await this.run(sql, ps.values)).length > 0;
  }

  // ------------------------------------------------------------ inspection (doctor, init)
  // Catalogue questions; table names are bound as values, or quoted as identifiers.

  async listTables(): Promise<string[]> {
    const sql =
      this.kind === 'postgres'
        ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ANY (current_schemas(false)) ORDER BY table_name`
        : this.kind === 'mysql'
          ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
          : `SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`;
    return (await this.run(sql, [])).map((r) => String(r.name));
  }

  async tableColumns(table: string): Promise<Array<{ name: string; primaryKey: boolean }> | null> {
    if (this.kind === 'postgres') {
      const p = this.dialect.param;
      const exists = await this.run(`SELECT to_regclass(quote_ident(${p(1)})) IS NOT NULL AS ok`, [table]);
      if (!toBool(exists[0]?.ok)) return null;
      const sql = `SELECT a.attname::text AS name, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey::int2[])) AS pk FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident(${p(1)})) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;
      return (await this.run(sql, [table])).map((r) => ({ name: String(r.name), primaryKey: toBool(r.pk) }));
    }
    if (this.kind === 'mysql') {
      const exists = await this.run(`SELECT 1 AS ok FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`, [table]);
      if (!exists.length) return null;
      const sql = `SELECT column_name AS name, column_key = 'PRI' AS pk FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position`;
      return (await this.run(sql, [table])).map((r) => ({ name: String(r.name), primaryKey: toBool(r.pk) }));
    }
    const exists = await this.run(`SELECT 1 AS ok FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?`, [table]);
    if (!exists.length) return null;
    return (await this.run(`SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, [table])).map((r) => ({ name: String(r.name), primaryKey: Number(r.pk) > 0 }));
  }

  async tableIndexes(table: string): Promise<Array<{ name: string; unique: boolean; partial: boolean; columns: Array<string | null> }>> {
    if (this.kind === 'postgres') {
      const sql = `SELECT c.relname::text AS name, i.indisunique AS uniq, i.indpred IS NOT NULL AS partial, ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(quote_ident(${this.dialect.param(1)})) ORDER BY c.relname`;
      return (await this.run(sql, [table])).map((r) => ({ name: String(r.name), unique: toBool(r.uniq), partial: toBool(r.partial), columns: (r.cols as Array<string | null>).map((c) => c ?? null) }));
    }
    const out: Array<{ name: string; unique: boolean; partial: boolean; columns: Array<string | null> }> = [];
    if (this.kind === 'mysql') {
      const sql = `SELECT index_name AS name, non_unique AS non_unique, column_name AS col FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? ORDER BY index_name, seq_in_index`;
      const byName = new Map<string, { name: string; unique: boolean; partial: boolean; columns: Array<string | null> }>();
      for (const r of await this.run(sql, [table])) {
        const name = String(r.name);
        let i = byName.get(name);
        if (!i) byName.set(name, (i = { name, unique: !toBool(r.non_unique), partial: false, columns: [] }));
        i.columns.push(r.col === null || r.col === undefined ? null : String(r.col));
      }
      return [...byName.values()];
    }
    for (const r of await this.run(`SELECT name, "unique" AS uniq, partial FROM pragma_index_list(?)`, [table])) {
      const cols = await this.run(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [String(r.name)]);
      out.push({ name: String(r.name), unique: toBool(r.uniq), partial: toBool(r.partial), columns: cols.map((c) => (c.name === null || c.name === undefined ? null : String(c.name))) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async countRows(table: string): Promise<number> {
    const rows = await this.run(`SELECT COUNT(*) AS n FROM ${this.q(table)}`, []);
    return Number(rows[0]?.n ?? 0);
  }

  async idRange(table: string, column: string): Promise<{ min: number; max: number } | null> {
    const rows = await this.run(`SELECT MIN(${this.q(column)}) AS lo, MAX(${this.q(column)}) AS hi FROM ${this.q(table)}`, []);
    const r = rows[0];
    return r && r.lo !== null && r.lo !== undefined ? { min: Number(r.lo), max: Number(r.hi) } : null;
  }

  async userCounts(): Promise<{ total: number; active: number }> {
    const rows = await this.run(`SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN ${this.uactive} THEN 1 ELSE 0 END), 0) AS active FROM ${this.U} u`, []);
    return { total: Number(rows[0]?.n ?? 0), active: Number(rows[0]?.active ?? 0) };
  }

  async groupsNamedLikeUsers(limit: number): Promise<string[]> {
    const g = this.map.groups;
    if (!g || !this.hasGroups) return [];
    const name = `g.${this.q(g.name)}`;
    // Compared as usernames are (exactly: a collation that folds case would pair frank with Frank).
    const on = this.equalsExactly(this.uname, () => name);
    const rows = await this.run(`SELECT DISTINCT ${name} AS name FROM ${this.q(g.table)} g JOIN ${this.U} u ON ${on} WHERE ${this.uactive} ORDER BY ${name} LIMIT ${this.limit(this.dialect.param(1))}`, [limit]);
    return rows.map((r) => String(r.name));
  }

  async caseInsensitiveDuplicates(limit: number): Promise<string[][]> {
    const keys = await this.run(`SELECT lower(${this.uname}) AS k FROM ${this.U} u GROUP BY lower(${this.uname}) HAVING COUNT(*) > 1 ORDER BY lower(${this.uname}) LIMIT ${this.limit(this.dialect.param(1))}`, [limit]);
    const out: string[][] = [];
    for (const k of keys) {
      // Matched as usersByUsername matches (exactly, where a collation would fold more).
      const ps = new Params(this.dialect);
      const cond = this.equalsExactly(`lower(${this.uname})`, () => ps.add(String(k.k)));
      const rows = await this.run(`SELECT ${this.uname} AS username FROM ${this.U} u WHERE ${cond} ORDER BY ${this.uid} LIMIT 20`, ps.values);
      if (rows.length > 1) out.push(rows.map((r) => String(r.username)));
    }
    return out;
  }

  async caseTwinNames(): Promise<{ users: string[]; groups: string[] }> {
    const twins = (table: string, col: string) =>
      `SELECT ${col} AS n FROM ${table} WHERE lower(${col}) IN (SELECT lower(${col}) FROM ${table} GROUP BY lower(${col}) HAVING COUNT(*) > 1)`;
    const users = await this.run(twins(`${this.U} u`, this.uname), []);
    const g = this.map.groups;
    const groups = g && this.hasGroups ? await this.run(twins(`${this.q(g.table)} g`, `g.${this.q(g.name)}`), []) : [];
    return { users: users.map((r) => String(r.n)), groups: groups.map((r) => String(r.n)) };
  }

  async appliedMigrations(): Promise<Map<string, string[]> | null> {
    if ((await this.tableColumns('django_migrations')) === null) return null;
    const out = new Map<string, string[]>();
    for (const r of await this.run(`SELECT app, name FROM ${this.q('django_migrations')} ORDER BY id`, [])) {
      const app = String(r.app);
      let list = out.get(app);
      if (!list) out.set(app, (list = []));
      list.push(String(r.name));
    }
    return out;
  }
}
