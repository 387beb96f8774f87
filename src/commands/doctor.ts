// `doctor`: connects with the given configuration and reports, table by table, what the bridge
// would find: the mapped tables and columns, counts, the password hashers in use (every stored
// password is identified, page by page; no hash is ever printed), who can never bind,
// usernames equal under case-insensitive matching, and the indexes the bridge's queries rely
// on. Errors (the bridge would not start) exit 1; warnings exit 0 and are marked WARNING.
import { mappedTables } from '../django/mapping.js';
import { existsSync, readFileSync } from 'node:fs';
import type { ConfigFlags } from '../config/load.js';
import type { BridgeConfig, DjangoMapping } from '../config/types.js';
import { redactDatabaseUrl } from '../config/database-url.js';
import { openStore } from '../db/open.js';
import { inspectorOf, type DirectoryStore, type IndexInfo, type StoreInspector } from '../directory/store.js';
import { hashCost, hashWeakness, identifyHasher } from '../django/hashers/index.js';
import { parseListenUrl } from '../ldap/listen-url.js';
import { Dit } from '../ldap/dit.js';
import { describeCost, loadCommandConfig, pad, someNames } from './common.js';

export interface DoctorOptions extends ConfigFlags {
  json?: boolean;
}

type Status = 'ok' | 'missing' | 'unmapped';

export interface ColumnReport {
  /** What the column becomes (an LDAP attribute, or its role). */
  attribute: string;
  /** The setting naming it. */
  setting: string;
  column: string | null;
  status: Status;
}

export interface TableReport {
  role: string;
  setting: string;
  table: string;
  found: boolean;
  rows?: number;
  columns: ColumnReport[];
}

export interface HasherReport {
  hasher: string;
  users: number;
  weak: boolean;
  /** Why it is weak, as its hasher module says (e.g. "salted MD5"). */
  weakness?: string;
  /** Users per cost, e.g. { "iterations 260000": 3 }. */
  costs: Record<string, number>;
  /** Usernames of its users with a weak hash (weak hashers only; at most 1000). */
  usernames?: string[];
}

export interface IndexReport {
  table: string;
  columns: string[];
  unique: boolean;
  purpose: string;
  status: 'ok' | 'missing' | 'not-unique' | 'unknown';
  index?: string;
  hint?: string;
}

export interface NeverBindGroup {
  count: number;
  usernames: string[];
}

export interface DoctorReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  database: { url: string; kind: string | null; reachable: boolean };
  tables: TableReport[];
  counts?: { users: number; activeUsers: number; inactiveUsers: number; groups: number | null; permissions: number | null; usersWithConfirmedTotp?: number | null };
  hashers?: HasherReport[];
  neverBind?: { total: number; inactive: NeverBindGroup; unusablePassword: NeverBindGroup; unknownHasher: NeverBindGroup; malformedHash: NeverBindGroup };
  duplicates?: string[][];
  indexes?: IndexReport[];
  posix?: PosixReport;
}

export interface PosixReport {
  settings: NonNullable<BridgeConfig['posix']>;
  /** uidNumbers in use (uidBase + the lowest and highest user id), null: no users. */
  uids: { min: number; max: number } | null;
  /** gidNumbers of the Django groups, null: no groups (or none served). */
  gids: { min: number; max: number } | null;
  /** Accounts of this host's /etc/passwd and groups of /etc/group whose number lies in a range
   * in use: a Django user or group may get the same number. */
  hostUsers: Array<{ name: string; number: number }>;
  hostGroups: Array<{ name: string; number: number }>;
}

/** name:x:number:... lines of /etc/passwd or /etc/group; absent file: none. */
function hostIds(file: string): Array<{ name: string; number: number }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Array<{ name: string; number: number }> = [];
  for (const l of text.split('\n')) {
    const f = l.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2])) out.push({ name: f[0], number: Number(f[2]) });
  }
  return out;
}

const LIST_MAX = 1000;
const PAGE = 1000;

/** Checks of the configuration that need no database (what startBridge would refuse). */
function configProblems(config: BridgeConfig, errors: string[], warnings: string[]): void {
  let dit: Dit | undefined;
  try {
    dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  } catch (e) {
    errors.push(`baseDn: ${(e as Error).message}`);
  }
  for (const [i, s] of config.serviceAccounts.entries()) {
    const kind = identifyHasher(s.password);
    const weakness = hashWeakness(s.password);
    if (kind === 'unusable' || kind === 'unknown' || !hashCost(s.password)) {
      errors.push(`serviceAccounts[${i}].password: the password of ${s.dn} is not a Django password hash (make one with: django-ldap-bridge hash-password)`);
    } else if (weakness) {
      warnings.push(`serviceAccounts[${i}].password: ${s.dn} uses the weak ${weakness} hasher (make a new hash with: django-ldap-bridge hash-password)`);
    }
    if (dit) {
      try {
        dit.key(s.dn);
      } catch (e) {
        errors.push(`serviceAccounts[${i}].dn: ${(e as Error).message}`);
      }
    }
  }
  let nonLoopback = false;
  for (const [i, l] of config.listen.entries()) {
    try {
      const a = parseListenUrl(l);
      if (!a.secure && !/^(127\.|::1$|localhost$)/.test(a.host)) nonLoopback = true;
    } catch (e) {
      errors.push(`listen[${i}]: ${(e as Error).message}`);
    }
  }
  if (config.tls) {
    for (const k of ['cert', 'key'] as const) if (!existsSync(config.tls[k])) errors.push(`tls.${k}: ${config.tls[k]} does not exist`);
  }
  if (nonLoopback && !config.tls && config.security.requireTls !== 'never') {
    warnings.push(`listen: a non-loopback ldap:// listener without tls: password binds on it will be refused (confidentialityRequired) until tls.cert/tls.key are set`);
  }
}

function columnKnown(columns: Array<{ name: string }>, name: string, caseInsensitive: boolean): boolean {
  return columns.some((c) => (caseInsensitive ? c.name.toLowerCase() === name.toLowerCase() : c.name === name));
}

/** Which indexes the bridge's queries use, for the mapping. */
function indexNeeds(m: DjangoMapping): Array<{ table: string; column: string; unique: boolean; purpose: string }> {
  const needs = [{ table: m.users.table, column: m.users.username, unique: true, purpose: 'every bind and (uid=...) search looks a user up by USERNAME_FIELD' }];
  if (m.userGroups && m.groups) {
    needs.push({ table: m.userGroups.table, column: m.userGroups.userColumn, unique: false, purpose: "a user's groups (memberOf, test-bind)" });
    needs.push({ table: m.userGroups.table, column: m.userGroups.otherColumn, unique: false, purpose: "a group's members (member, memberUid, Require ldap-group)" });
    needs.push({ table: m.groups.table, column: m.groups.name, unique: true, purpose: 'groups are looked up by cn' });
  }
  if (m.userPermissions && m.permissions) needs.push({ table: m.userPermissions.table, column: m.userPermissions.userColumn, unique: false, purpose: "a user's direct permissions" });
  if (m.groups?.permissions && m.permissions) needs.push({ table: m.groups.permissions.table, column: m.groups.permissions.groupColumn, unique: false, purpose: "a group's permissions" });
  return needs;
}

function checkIndex(need: { table: string; column: string; unique: boolean; purpose: string }, indexes: IndexInfo[], pk: string[], caseInsensitive: boolean): IndexReport {
  const same = (a: string | null) => a !== null && (caseInsensitive ? a.toLowerCase() === need.column.toLowerCase() : a === need.column);
  const base = { table: need.table, columns: [need.column], unique: need.unique, purpose: need.purpose };
  const idxName = `${need.table}_${need.column}_${need.unique ? 'uniq' : 'idx'}`.replace(/[^A-Za-z0-9_]/g, '_');
  const hint = `CREATE ${need.unique ? 'UNIQUE ' : ''}INDEX "${idxName}" ON "${need.table}" ("${need.column}");`;
  if (pk.length === 1 && same(pk[0])) return { ...base, status: 'ok', index: '(primary key)' };
  const full = indexes.filter((i) => !i.partial);
  const exactUnique = full.find((i) => i.unique && i.columns.length === 1 && same(i.columns[0]));
  if (exactUnique) return { ...base, status: 'ok', index: exactUnique.name };
  const leading = full.find((i) => same(i.columns[0]));
  if (leading && !need.unique) return { ...base, status: 'ok', index: leading.name };
  if (leading) return { ...base, status: 'not-unique', index: leading.name, hint };
  if (pk.length > 1 && same(pk[0]) && !need.unique) return { ...base, status: 'ok', index: '(primary key)' };
  return { ...base, status: 'missing', hint };
}

export async function doctor(opts: DoctorOptions): Promise<{ report: DoctorReport; text: string }> {
  const config = loadCommandConfig(opts);
  const errors: string[] = [];
  const warnings: string[] = [];
  const report: DoctorReport = { ok: false, errors, warnings, database: { url: redactDatabaseUrl(config.database), kind: null, reachable: false }, tables: [] };
  configProblems(config, errors, warnings);

  let store: (DirectoryStore & StoreInspector) | undefined;
  let opened: DirectoryStore | undefined;
  try {
    opened = openStore(config);
    report.database.kind = opened.kind;
    await opened.ping();
    report.database.reachable = true;
    store = inspectorOf(opened);
    if (!store) errors.push(`database: the ${opened.kind} store cannot be inspected`);
  } catch (e) {
    errors.push(`database: cannot use ${redactDatabaseUrl(config.database)}: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    if (store) await inspect(config, store, report);
  } finally {
    await opened?.close().catch(() => {});
  }
  report.ok = errors.length === 0;
  return { report, text: render(config, report) };
}

async function inspect(config: BridgeConfig, store: DirectoryStore & StoreInspector, report: DoctorReport): Promise<void> {
  const { errors, warnings } = report;
  const m = config.django;
  const ci = store.kind !== 'postgres'; // SQLite's and MySQL's column names ignore case
  const columnsOf = new Map<string, Array<{ name: string; primaryKey: boolean }> | null>();
  for (const t of mappedTables(m)) {
    if (!columnsOf.has(t.table)) columnsOf.set(t.table, await store.tableColumns(t.table));
    const cols = columnsOf.get(t.table) ?? null;
    const tr: TableReport = {
      role: t.role,
      setting: t.setting,
      table: t.table,
      found: cols !== null,
      columns: t.columns.map((c) => ({ ...c, status: c.column === null ? 'unmapped' : cols && columnKnown(cols, c.column, ci) ? 'ok' : 'missing' })),
    };
    report.tables.push(tr);
    if (!cols) {
      let hint = '';
      if (t.setting === 'users.table') {
        const like: string[] = [];
        for (const name of await store.listTables()) {
          const c = (await store.tableColumns(name)) ?? [];
          if (['password', 'is_active', 'last_login'].every((n) => c.some((x) => x.name === n))) like.push(name);
        }
        if (like.length) hint = ` (tables that look like a user model: ${like.join(', ')}; set users.table, or run django-ldap-bridge init)`;
      }
      errors.push(`${t.setting}: table "${t.table}" not found in the database${hint}`);
      continue;
    }
    for (const c of tr.columns) if (c.status === 'missing') errors.push(`${c.setting}: column "${c.column}" not found in table "${t.table}"`);
  }
  // The bridge's own start-up check, in case the catalogue and a real query disagree.
  if (errors.length === 0) {
    try {
      await store.verifySchema();
    } catch (e) {
      errors.push(...(e as Error).message.split('\n'));
    }
  }
  const usersOk = report.tables[0]?.found === true && report.tables[0].columns.every((c) => c.status !== 'missing');
  if (!usersOk) return; // nothing below can be asked of a user table that is not there

  // Counts.
  const uc = await store.userCounts();
  const tableOk = (setting: string) => report.tables.find((t) => t.setting === setting)?.found === true;
  const groups = m.groups && tableOk('groups.table') ? await store.countRows(m.groups.table) : null;
  const permissions = m.permissions && tableOk('permissions.table') ? await store.countRows(m.permissions.table) : null;
  report.counts = { users: uc.total, activeUsers: uc.active, inactiveUsers: uc.total - uc.active, groups, permissions };
  // One-time codes (mfa.require): who could give one at all.
  if (m.totpDevices) {
    const n = tableOk('mfa.devicesTable') && store.usersWithConfirmedTotp ? await store.usersWithConfirmedTotp() : null;
    report.counts.usersWithConfirmedTotp = n;
    if (n === 0) warnings.push(`mfa.require is ${describeMfaRequire(config)}, and no user has a confirmed TOTP device (${m.totpDevices.table})`);
  }
  for (const t of report.tables) {
    if (t.setting === 'users.table') t.rows = uc.total;
    else if (t.setting === 'groups.table' && groups !== null) t.rows = groups;
    else if (t.setting === 'permissions.table' && permissions !== null) t.rows = permissions;
  }

  // Hashers: every stored password identified, a page at a time; only names and counts kept.
  const byHasher = new Map<string, HasherReport>();
  const never = { inactive: [] as string[], unusablePassword: [] as string[], unknownHasher: [] as string[], malformedHash: [] as string[] };
  const counts = { inactive: 0, unusablePassword: 0, unknownHasher: 0, malformedHash: 0 };
  let total = 0;
  const note = (k: keyof typeof never, name: string) => {
    counts[k]++;
    if (never[k].length < LIST_MAX) never[k].push(name);
  };
  for (let afterId = 0; ; ) {
    const page = await store.findUsers({ op: 'all' }, { afterId, limit: PAGE }, false, true);
    for (const u of page) {
      const kind = identifyHasher(u.password);
      const cost = kind === 'unusable' || kind === 'unknown' ? undefined : hashCost(u.password);
      let h = byHasher.get(kind);
      if (!h) byHasher.set(kind, (h = { hasher: kind, users: 0, weak: false, costs: {} }));
      h.users++;
      const weakness = hashWeakness(u.password);
      if (weakness) {
        h.weak = true;
        h.weakness = weakness;
        h.usernames ??= [];
        if (h.usernames.length < LIST_MAX) h.usernames.push(u.username);
      }
      const costText = kind === 'unusable' || kind === 'unknown' ? '' : cost ? describeCost(cost) || 'no parameters' : 'malformed';
      if (costText) h.costs[costText] = (h.costs[costText] ?? 0) + 1;
      let cannot = false;
      if (!u.isActive) {
        note('inactive', u.username);
        cannot = true;
      }
      if (kind === 'unusable') note('unusablePassword', u.username);
      else if (kind === 'unknown') note('unknownHasher', u.username);
      else if (!cost) note('malformedHash', u.username);
      if (kind === 'unusable' || kind === 'unknown' || !cost) cannot = true;
      if (cannot) total++;
    }
    if (page.length < PAGE) break;
    afterId = page[page.length - 1].id;
  }
  report.hashers = [...byHasher.values()].sort((a, b) => b.users - a.users || (a.hasher < b.hasher ? -1 : 1));
  for (const h of report.hashers) {
    if (h.weak) warnings.push(`${h.users} ${h.users === 1 ? 'user' : 'users'} still on ${h.weakness} (${h.hasher}): ${someNames(h.usernames ?? [], 10)}`);
  }
  report.neverBind = {
    total,
    inactive: { count: counts.inactive, usernames: never.inactive },
    unusablePassword: { count: counts.unusablePassword, usernames: never.unusablePassword },
    unknownHasher: { count: counts.unknownHasher, usernames: never.unknownHasher },
    malformedHash: { count: counts.malformedHash, usernames: never.malformedHash },
  };
  if (counts.unknownHasher) warnings.push(`${counts.unknownHasher} ${counts.unknownHasher === 1 ? 'user has' : 'users have'} a password hash of no hasher Django ships, and can never bind: ${someNames(never.unknownHasher, 10)}`);
  if (counts.malformedHash) warnings.push(`${counts.malformedHash} ${counts.malformedHash === 1 ? 'user has' : 'users have'} a malformed password hash, and can never bind: ${someNames(never.malformedHash, 10)}`);

  // Usernames equal under the bridge's case-insensitive matching.
  report.duplicates = await store.caseInsensitiveDuplicates(LIST_MAX);
  if (report.duplicates.length) {
    const list = someNames(report.duplicates.map((d) => d.join(' / ')), 10);
    const n = report.duplicates.length;
    warnings.push(
      config.caseInsensitiveUsernames
        ? `usernames that differ only in case (${n} ${n === 1 ? 'set' : 'sets'}: ${list}): with users.caseInsensitive each binds only by its exact name`
        : `usernames that differ only in case (${n} ${n === 1 ? 'set' : 'sets'}: ${list}): fine while users.caseInsensitive is false; resolve them before turning it on`,
    );
  }

  if (config.posix) await inspectPosix(config, config.posix, store, report);

  if (config.posix) {
    // Users and groups with case twins (the same sets posix.caseTwins acts on).
    const twins = await store.caseTwinNames();
    const sets = (names: string[]) => {
      const by = new Map<string, string[]>();
      for (const n of names) by.set(n.toLowerCase(), [...(by.get(n.toLowerCase()) ?? []), n]);
      return [...by.values()].map((s) => s.sort().join(' / '));
    };
    const parts = [twins.users.length ? `users ${someNames(sets(twins.users), 10)}` : '', twins.groups.length ? `groups ${someNames(sets(twins.groups), 10)}` : ''].filter(Boolean).join('; ');
    if (parts && config.posix.caseTwins === 'serve') {
      warnings.push(
        `posix: names that differ only in case (${parts}): fine with SSSD's ldap_schema = rfc2307 and with nslcd, which compare names exactly; SSSD's rfc2307bis compares member DNs ignoring case and fails every group holding such a user: with rfc2307bis set posix.caseTwins: exclude (docs/linux.md)`,
      );
    } else if (parts) {
      warnings.push(`posix: names that differ only in case are left out of POSIX (posix.caseTwins exclude): ${parts}; they stay LDAP users and groups, without Unix accounts until renamed (docs/linux.md)`);
    }
  }

  // Indexes.
  report.indexes = [];
  const indexCache = new Map<string, IndexInfo[]>();
  for (const need of indexNeeds(m)) {
    const cols = columnsOf.get(need.table);
    if (!cols) continue;
    if (!indexCache.has(need.table)) indexCache.set(need.table, await store.tableIndexes(need.table));
    const r = checkIndex(need, indexCache.get(need.table)!, cols.filter((c) => c.primaryKey).map((c) => c.name), ci);
    report.indexes.push(r);
    if (r.status === 'missing') warnings.push(`no ${need.unique ? 'unique ' : ''}index on ${need.table}(${need.column}): ${need.purpose}, each a table scan (${r.hint})`);
    if (r.status === 'not-unique') warnings.push(`the index ${r.index} on ${need.table}(${need.column}) is not unique: ${need.purpose}`);
  }
}

function describeMfaRequire(config: BridgeConfig): string {
  const r = config.mfa.require;
  return r.kind === 'group' ? `group:${r.name}` : r.kind === 'permission' ? `permission:${r.appLabel}.${r.codename}` : r.kind;
}

/** The POSIX number ranges in use, how they meet each other and this host's accounts. */
async function inspectPosix(config: BridgeConfig, p: NonNullable<BridgeConfig['posix']>, store: DirectoryStore & StoreInspector, report: DoctorReport): Promise<void> {
  const m = config.django;
  const ids = await store.idRange(m.users.table, m.users.id).catch(() => null);
  const gids = m.groups && m.userGroups ? await store.idRange(m.groups.table, m.groups.id).catch(() => null) : null;
  const uids = ids && { min: p.uidBase + ids.min, max: p.uidBase + ids.max };
  const groupRange = gids && { min: p.gidBase + gids.min, max: p.gidBase + gids.max };
  const inside = (n: number, r: { min: number; max: number } | null) => r !== null && n >= r.min && n <= r.max;
  // Private groups are numbered like the uids: host groups meet them too.
  const privateRange = p.primaryGroup === 'private' ? uids : null;
  const hostUsers = hostIds('/etc/passwd').filter((h) => inside(h.number, uids));
  const hostGroups = hostIds('/etc/group').filter((h) => inside(h.number, groupRange) || inside(h.number, privateRange));
  report.posix = { settings: p, uids, gids: groupRange, hostUsers, hostGroups };
  const some = (xs: Array<{ name: string; number: number }>) => someNames(xs.map((x) => `${x.name} (${x.number})`), 10);
  if (hostUsers.length) report.warnings.push(`posix: local accounts in /etc/passwd have uids in the range of Django's users (${uids!.min}-${uids!.max}): ${some(hostUsers)}; choose another posix.uidBase (docs/linux.md)`);
  if (hostGroups.length) report.warnings.push(`posix: local groups in /etc/group have gids in a range in use: ${some(hostGroups)}; choose another posix.gidBase or posix.uidBase (docs/linux.md)`);
  if (p.primaryGroup === 'private') {
    // A private group is named like its user: a Django group of the same name makes two groups
    // of that name for `getent group` (with different numbers).
    const alike = await store.groupsNamedLikeUsers(11).catch(() => []);
    if (alike.length) report.warnings.push(`posix: Django groups named exactly like users (${someNames(alike, 10)}): with posix.primaryGroup private each such user also has a private group of that name, so getent group <name> finds two groups; rename the Django group (docs/linux.md)`);
  }
  if (groupRange && privateRange && groupRange.max >= privateRange.min && groupRange.min <= privateRange.max) {
    report.warnings.push(`posix: the Django groups' gids (${groupRange.min}-${groupRange.max}) meet the private user groups' (${privateRange.min}-${privateRange.max}); move posix.gidBase or posix.uidBase apart`);
  }
}

// ---------------------------------------------------------------------------------------------
// Human-readable output

const MARK = { ok: 'ok      ', warn: 'WARNING ', error: 'ERROR   ', info: '        ' };

function render(config: BridgeConfig, r: DoctorReport): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`django-ldap-bridge doctor: ${r.database.url}`);
  line();
  line('Database');
  line(r.database.reachable ? `  ${MARK.ok}reachable (${r.database.kind})` : `  ${MARK.error}not reachable`);

  if (r.tables.length) {
    line();
    line('Tables and columns (LDAP attribute <- column)');
    for (const t of r.tables) {
      const rows = t.rows !== undefined ? `, ${t.rows} rows` : '';
      line(`  ${t.found ? MARK.ok : MARK.error}${t.role}: ${t.table}${t.found ? rows : ' NOT FOUND'}  (${t.setting})`);
      if (!t.found) continue;
      for (const c of t.columns) {
        const mark = c.status === 'ok' ? MARK.ok : c.status === 'missing' ? MARK.error : MARK.info;
        const what = c.status === 'unmapped' ? 'not mapped (null)' : c.status === 'missing' ? `${c.column} MISSING` : c.column;
        line(`    ${mark}${pad(c.attribute, 34)} <- ${pad(String(what), 16)} (${c.setting})`);
      }
    }
  }
  if (r.counts) {
    const c = r.counts;
    line();
    line('Counts');
    line(`  users        ${c.users} (${c.activeUsers} active, ${c.inactiveUsers} inactive)`);
    if (c.groups !== null) line(`  groups       ${c.groups}${config.django.userGroups ? '' : ' (not served: users.groups is false)'}`);
    if (c.permissions !== null) line(`  permissions  ${c.permissions}`);
    if (c.usersWithConfirmedTotp !== undefined) line(`  users with a confirmed TOTP device  ${c.usersWithConfirmedTotp ?? 'unknown (no device table)'} (mfa.require: ${describeMfaRequire(config)})`);
  }
  if (r.hashers) {
    line();
    line('Password hashers (users per hasher)');
    for (const h of r.hashers) {
      const costs = Object.entries(h.costs)
        .map(([k, n]) => `${k}: ${n}`)
        .join('; ');
      const label = h.hasher === 'unusable' ? 'unusable ("!...")' : h.hasher === 'unknown' ? 'unknown' : h.hasher;
      if (h.weak) {
        line(`  ${MARK.warn}${pad(label, 18)} ${h.users} ${h.users === 1 ? 'user' : 'users'} still on ${h.weakness}: ${someNames(h.usernames ?? [], 10)}`);
      } else {
        line(`  ${h.hasher === 'unknown' ? MARK.warn : MARK.info}${pad(label, 18)} ${h.users} ${h.users === 1 ? 'user' : 'users'}${costs ? `  (${costs})` : ''}`);
      }
    }
    if (r.hashers.some((h) => h.weak)) line(`  ${MARK.info}Django re-hashes a password with its first PASSWORD_HASHERS entry when that user next logs in.`);
  }
  if (r.neverBind) {
    const n = r.neverBind;
    line();
    line(`Users who can never bind (${n.total})`);
    const groups: Array<[string, NeverBindGroup, boolean]> = [
      ['inactive (is_active false)', n.inactive, false],
      ['unusable password', n.unusablePassword, false],
      ['unknown hasher', n.unknownHasher, true],
      ['malformed hash', n.malformedHash, true],
    ];
    for (const [label, g, warn] of groups) {
      if (g.count) line(`  ${warn ? MARK.warn : MARK.info}${pad(label, 28)} ${g.count}: ${someNames(g.usernames)}`);
    }
    if (n.total === 0) line(`  ${MARK.ok}none`);
  }
  if (r.duplicates) {
    line();
    line(`Usernames equal ignoring case (${r.duplicates.length})`);
    if (!r.duplicates.length) line(`  ${MARK.ok}none`);
    for (const d of r.duplicates.slice(0, 50)) line(`  ${MARK.warn}${d.join(' / ')}`);
    if (r.duplicates.length > 50) line(`  ${MARK.info}and ${r.duplicates.length - 50} more`);
    if (r.duplicates.length) line(`  ${MARK.info}users.caseInsensitive is ${config.caseInsensitiveUsernames ? 'true: each of these binds only by its exact name' : 'false: they are distinct users, as in Django'}`);
  }
  if (r.posix) {
    const p = r.posix;
    const range = (x: { min: number; max: number } | null) => (x ? `${x.min}-${x.max}` : 'none in use');
    const rule = p.settings.unixUsers.kind === 'all' ? 'all active users' : p.settings.unixUsers.kind === 'group' ? `active members of the group ${p.settings.unixUsers.name}` : `active holders of ${p.settings.unixUsers.appLabel}.${p.settings.unixUsers.codename}`;
    line();
    line('POSIX accounts (posix.enabled)');
    line(`  ${MARK.info}Unix users     ${rule}`);
    line(`  ${MARK.info}uidNumber      ${p.settings.uidBase} + user id: ${range(p.uids)}`);
    line(`  ${MARK.info}gidNumber      ${p.settings.primaryGroup === 'private' ? 'private group, same as the uid' : `${p.settings.primaryGroup} for every user`}; Django groups ${p.settings.gidBase} + group id: ${range(p.gids)}`);
    line(`  ${MARK.info}home, shell    ${p.settings.homeDirectory}, ${p.settings.loginShell}`);
    if (!p.hostUsers.length && !p.hostGroups.length) line(`  ${MARK.ok}no account of this host's /etc/passwd or /etc/group is in these ranges`);
    for (const h of p.hostUsers) line(`  ${MARK.warn}/etc/passwd ${h.name} has uid ${h.number}, inside the users' range`);
    for (const h of p.hostGroups) line(`  ${MARK.warn}/etc/group ${h.name} has gid ${h.number}, inside a range in use`);
  }
  if (r.indexes) {
    line();
    line('Indexes the bridge relies on');
    for (const i of r.indexes) {
      const what = `${i.table}(${i.columns.join(', ')})${i.unique ? ' unique' : ''}`;
      if (i.status === 'ok') line(`  ${MARK.ok}${pad(what, 44)} ${i.index}`);
      else if (i.status === 'not-unique') line(`  ${MARK.warn}${pad(what, 44)} ${i.index} is not unique`);
      else line(`  ${MARK.warn}${pad(what, 44)} MISSING: ${i.purpose}; e.g. ${i.hint}`);
    }
  }
  if (r.errors.length || r.warnings.length) {
    line();
    for (const e of r.errors) line(`ERROR: ${e}`);
    for (const w of r.warnings) line(`WARNING: ${w}`);
  }
  line();
  line(`${r.errors.length ? 'FAILED' : 'passed'}: ${r.errors.length} ${r.errors.length === 1 ? 'error' : 'errors'}, ${r.warnings.length} ${r.warnings.length === 1 ? 'warning' : 'warnings'}`);
  return out.join('\n') + '\n';
}

/** The `doctor` command: prints the report (text or --json); exit 1 on any error. */
export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const { report, text } = await doctor(opts);
  process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : text);
  return report.ok ? 0 : 1;
}
