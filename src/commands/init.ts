// `init`: inspects a Django database and writes a commented config file for it. It finds the
// user model's table (auth_user, or a table with password, is_active and last_login columns;
// when several qualify, the one django_migrations shows to be a custom AUTH_USER_MODEL, else
// the operator chooses with --user-table), guesses USERNAME_FIELD, maps the optional columns
// that exist (null for the others) and the many-to-many tables, then checks that the file loads
// and that the bridge's schema check passes on it before putting it in place.
import { existsSync, linkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigFlags } from '../config/load.js';
import { DEFAULT_DJANGO_MAPPING, loadConfig, ConfigError } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { parseDatabaseUrl, redactDatabaseUrl, type DatabaseTarget } from '../config/database-url.js';
import { openStore } from '../db/open.js';
import { inspectorOf, type ColumnInfo, type DirectoryStore, type IndexInfo, type StoreInspector } from '../directory/store.js';
import { USER_COLUMNS, type UserColumn } from '../ldap/attributes.js';
import { CommandError, loadCommandConfig } from './common.js';

export interface InitOptions extends ConfigFlags {
  out: string;
  force?: boolean;
  userTable?: string;
  usernameField?: string;
}

export const PLACEHOLDER_BASE_DN = 'dc=example,dc=com';

/** The optional user columns and the names Django's AbstractUser gives them: mapped when the
 * table has them, null otherwise. */
const OPTIONAL_COLUMNS = USER_COLUMNS.filter((c) => c.optional).map((c) => [c.field, c.default] as const);
/** The required ones under users.columns besides the primary key (password, is_active), which
 * init writes with Django's names: the user table was chosen for having them. */
const REQUIRED_COLUMNS = USER_COLUMNS.filter((c): c is UserColumn & { default: string } => !c.optional && c.default !== null && c.setting === `users.columns.${c.field}` && c.field !== 'id');

interface M2M {
  table: string;
  userColumn: string;
  otherColumn: string;
}

export interface Detection {
  userTable: string;
  /** Why this table: one line per reason. */
  why: string[];
  candidates: string[];
  id: string;
  usernameField: string;
  usernameWhy: string;
  columns: Record<string, string | null>;
  userGroups: M2M | null;
  userGroupsWhy: string;
  userPermissions: M2M | null;
  userPermissionsWhy: string;
  groups: boolean;
  groupPermissions: boolean;
  permissions: boolean;
}

type Inspector = DirectoryStore & StoreInspector;

function has(cols: ColumnInfo[] | null, name: string): boolean {
  return !!cols && cols.some((c) => c.name === name);
}

/** The app label of a table: the longest migrated app whose label + "_" starts the name. */
function appOf(table: string, apps: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const a of apps) if (table.startsWith(`${a}_`) && (!best || a.length > best.length)) best = a;
  return best;
}

/** A Django M2M table: `id`, the user's column and the other side's column. */
async function m2m(ins: Inspector, table: string, other: string): Promise<{ m: M2M | null; why: string }> {
  const cols = await ins.tableColumns(table);
  if (!cols) return { m: null, why: `no table ${table}` };
  if (!has(cols, other)) return { m: null, why: `${table} has no ${other} column` };
  const user = cols.filter((c) => c.name !== other && c.name !== 'id' && c.name.endsWith('_id'));
  if (user.length !== 1) return { m: null, why: `cannot tell which column of ${table} points at the user` };
  return { m: { table, userColumn: user[0]!.name, otherColumn: other }, why: `${table} (${user[0]!.name}, ${other})` };
}

function isUniqueOn(indexes: IndexInfo[], cols: ColumnInfo[], column: string): boolean {
  const pk = cols.filter((c) => c.primaryKey);
  if (pk.length === 1 && pk[0]!.name === column) return true;
  return indexes.some((i) => i.unique && !i.partial && i.columns.length === 1 && i.columns[0] === column);
}

export async function detect(ins: Inspector, opts: { userTable?: string; usernameField?: string }): Promise<Detection> {
  const tables = await ins.listTables();
  const columns = new Map<string, ColumnInfo[] | null>();
  const colsOf = async (t: string) => {
    if (!columns.has(t)) columns.set(t, await ins.tableColumns(t));
    return columns.get(t) ?? null;
  };
  const candidates: string[] = [];
  const nearMisses: string[] = [];
  for (const t of tables) {
    const cols = await colsOf(t);
    if (has(cols, 'password') && has(cols, 'last_login')) (has(cols, 'is_active') ? candidates : nearMisses).push(t);
  }

  let userTable: string;
  const why: string[] = [];
  if (opts.userTable) {
    const cols = await colsOf(opts.userTable);
    if (!cols) throw new CommandError(`init: --user-table ${opts.userTable}: no such table (user-model-like tables: ${candidates.join(', ') || 'none'})`, 2);
    for (const { default: c } of REQUIRED_COLUMNS) {
      if (!has(cols, c)) throw new CommandError(`init: --user-table ${opts.userTable} has no ${c} column, which the bridge needs`, 2);
    }
    userTable = opts.userTable;
    why.push('chosen with --user-table');
  } else if (candidates.length === 0) {
    const near = nearMisses.length ? `; ${nearMisses.join(', ')} ${nearMisses.length === 1 ? 'has' : 'have'} password and last_login but no is_active, which the bridge needs` : '';
    throw new CommandError(`init: no user table found in ${tables.length} tables: none has password, is_active and last_login columns${near}`, 1);
  } else if (candidates.length === 1) {
    userTable = candidates[0]!;
    why.push(userTable === 'auth_user' ? "django.contrib.auth's own user table" : 'the only table with password, is_active and last_login columns');
  } else {
    const migrations = await ins.appliedMigrations();
    const apps = migrations ? [...migrations.keys()] : [];
    const custom = candidates.filter((t) => {
      const app = appOf(t, apps);
      return app !== undefined && app !== 'auth';
    });
    const list = candidates.map((t) => `${t}${appOf(t, apps) ? ` (app ${appOf(t, apps)})` : ''}`).join(', ');
    if (custom.length === 1) {
      userTable = custom[0]!;
      const app = appOf(userTable, apps)!;
      why.push(`several tables look like a user model: ${list}`);
      why.push(`django_migrations shows app "${app}" migrated, and ${userTable} is the only one of its kind in a migrated app other than auth: AUTH_USER_MODEL = "${app}.<Model>"`);
    } else if (custom.length === 0 && candidates.includes('auth_user')) {
      userTable = 'auth_user';
      why.push(`several tables look like a user model: ${list}`);
      why.push('only auth_user belongs to a migrated app: the others are not Django models');
    } else {
      throw new CommandError(
        `init: several tables look like a user model: ${list}${migrations ? '' : ' (no django_migrations table to tell which is AUTH_USER_MODEL)'}\n` +
          `choose Model._meta.db_table of settings.AUTH_USER_MODEL with --user-table, e.g. --user-table ${custom[0] ?? candidates[0]}`,
        2,
      );
    }
  }
  const cols = (await colsOf(userTable))!;

  // id: the single-column primary key (Django's is "id").
  const pk = cols.filter((c) => c.primaryKey);
  const id = pk.length === 1 ? pk[0]!.name : has(cols, 'id') ? 'id' : undefined;
  if (!id) throw new CommandError(`init: cannot tell the primary key of ${userTable} (the bridge needs a single integer primary key)`, 1);

  // USERNAME_FIELD: it must be unique (Django's check auth.E003), so prefer the unique one.
  let usernameField: string;
  let usernameWhy: string;
  if (opts.usernameField) {
    if (!has(cols, opts.usernameField)) throw new CommandError(`init: --username-field ${opts.usernameField}: no such column in ${userTable}`, 2);
    usernameField = opts.usernameField;
    usernameWhy = 'chosen with --username-field';
  } else {
    const indexes = await ins.tableIndexes(userTable);
    const u = has(cols, 'username');
    const e = has(cols, 'email');
    if (u && e && !isUniqueOn(indexes, cols, 'username') && isUniqueOn(indexes, cols, 'email')) {
      usernameField = 'email';
      usernameWhy = 'email is unique and username is not (USERNAME_FIELD must be unique)';
    } else if (u) {
      usernameField = 'username';
      usernameWhy = 'the table has a username column';
    } else if (e) {
      usernameField = 'email';
      usernameWhy = 'no username column; email is the usual USERNAME_FIELD then';
    } else {
      throw new CommandError(`init: ${userTable} has neither a username nor an email column: name USERNAME_FIELD's column with --username-field`, 2);
    }
  }

  const colMap: Record<string, string | null> = {};
  for (const [key, name] of OPTIONAL_COLUMNS) colMap[key] = name !== null && has(cols, name) ? name : null;

  const groups = has(await colsOf('auth_group'), 'name');
  const permissions = has(await colsOf('auth_permission'), 'codename') && has(await colsOf('django_content_type'), 'app_label');
  const groupPermissions = groups && permissions && (await colsOf('auth_group_permissions')) !== null;
  const ug = groups ? await m2m(ins, `${userTable}_groups`, 'group_id') : { m: null, why: 'no auth_group table' };
  const up = permissions ? await m2m(ins, `${userTable}_user_permissions`, 'permission_id') : { m: null, why: 'no auth_permission table' };
  return {
    userTable,
    why,
    candidates,
    id,
    usernameField,
    usernameWhy,
    columns: colMap,
    userGroups: ug.m,
    userGroupsWhy: ug.why,
    userPermissions: up.m,
    userPermissionsWhy: up.why,
    groups,
    groupPermissions,
    permissions,
  };
}

/** A PostgreSQL URL without its password (the file should not hold it; libpq-style PGPASSWORD
 * or ~/.pgpass supply it). undefined when the URL cannot be rebuilt exactly. */
function withoutPassword(target: Extract<DatabaseTarget, { kind: 'postgres' }>): string | undefined {
  const user = target.user !== undefined ? `${encodeURIComponent(target.user)}@` : '';
  const host = target.host ? (target.host.includes(':') ? `[${target.host}]` : target.host) : '';
  const params: string[] = [];
  if (target.socketDir) params.push(`host=${encodeURIComponent(target.socketDir)}`);
  if (target.ssl) params.push(`sslmode=${target.ssl}`);
  const url = `postgres://${user}${host}${target.port ? `:${target.port}` : ''}/${encodeURIComponent(target.database)}${params.length ? `?${params.join('&')}` : ''}`;
  try {
    const back = parseDatabaseUrl(url, '/');
    const want = { ...target };
    delete want.password;
    return JSON.stringify(back, Object.keys(back).sort()) === JSON.stringify(want, Object.keys(want).sort()) ? url : undefined;
  } catch {
    return undefined;
  }
}

const y = (v: unknown): string => stringify(v, { lineWidth: 0 }).trimEnd();

/** How the file names the database: the URL, the URL without its password, or not at all. */
type DatabaseLine = { url: string; note?: string } | { fromEnv: string };

function render(config: BridgeConfig, d: Detection, db: DatabaseLine, baseDnPlaceholder: boolean): string {
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);
  push(
    `# django-ldap-bridge configuration, written by \`django-ldap-bridge init\` on ${new Date().toISOString().slice(0, 10)}`,
    '# from what it found in the database. Check it with:  django-ldap-bridge doctor --config <this file>',
    '# Every setting is described in docs/config.example.yaml; the schema is schemas/config.schema.json.',
    '',
    '# The Django database, read live (the bridge never writes to it). Use a read-only role.',
  );
  if ('fromEnv' in db) {
    push('# The URL holds a password, so it is not written here: set DATABASE_URL in the environment', `# (it was ${db.fromEnv}).`, '');
  } else {
    if (db.note) push(`# ${db.note}`);
    push(`database: ${y(db.url)}`, '');
  }
  push('# The directory suffix: every entry is under it (Apache: AuthLDAPURL "ldap://host:port/ou=users,<baseDn>?uid").');
  if (baseDnPlaceholder) push('# A placeholder: change it to your own (or pass --base-dn to init).');
  push(`baseDn: ${y(config.tree.baseDn)}`, '');
  push('# Where to listen: ldap://host:port (ldaps:// needs tls.cert and tls.key).', 'listen:');
  for (const l of config.listen) push(`  - ${y(l)}`);
  push('');
  push('# Accounts that may search and compare everything, e.g. Apache\'s AuthLDAPBindDN. The password is', '# a Django-format hash, never plaintext:  printf \'%s\' \'the-password\' | django-ldap-bridge hash-password');
  if (config.serviceAccounts.length) {
    push('serviceAccounts:');
    for (const s of config.serviceAccounts) push(`  - dn: ${y(s.dn)}`, `    password: ${y(s.password)}`);
  } else {
    push('serviceAccounts: []', '# serviceAccounts:', `#   - dn: cn=apache,ou=services,${config.tree.baseDn}`, '#     password: pbkdf2_sha256$1000000$...');
  }
  push('', '# Anonymous (unbound) clients may not search unless this is true.', `anonymous:`, `  search: ${config.anonymous.search}`, '');

  push('# The user model (settings.AUTH_USER_MODEL).');
  for (const w of d.why) push(`# Table: ${w}.`);
  if (d.candidates.length > 1) push(`# Other tables with password, is_active and last_login: ${d.candidates.filter((c) => c !== d.userTable).join(', ')}.`);
  push('users:', `  table: ${y(d.userTable)}`, `  # USERNAME_FIELD, served as uid: ${d.usernameWhy}.`, `  usernameField: ${y(d.usernameField)}`);
  push('  caseInsensitive: false    # match usernames exactly, like Django', '  showInactive: false       # hide is_active=false users (they can never bind anyway)');
  const missing = Object.entries(d.columns)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  push(`  # Column names; null where the model has no such field${missing.length ? ` (missing here: ${missing.join(', ')})` : ''}.`, '  columns:');
  push(`    id: ${y(d.id)}`, ...REQUIRED_COLUMNS.map((c) => `    ${c.field}: ${y(c.default)}`));
  for (const [key] of OPTIONAL_COLUMNS) push(`    ${key}: ${d.columns[key] === null ? 'null' : y(d.columns[key])}`);
  if (d.userGroups) {
    push("  # The model's `groups` many-to-many (PermissionsMixin).", '  groups:', `    table: ${y(d.userGroups.table)}`, `    userColumn: ${y(d.userGroups.userColumn)}`, `    groupColumn: ${y(d.userGroups.otherColumn)}`);
  } else {
    push(`  # No \`groups\` many-to-many found (${d.userGroupsWhy}): users only, no group memberships.`, '  groups: false');
  }
  if (d.userPermissions) {
    push("  # The model's `user_permissions` many-to-many (PermissionsMixin).", '  permissions:', `    table: ${y(d.userPermissions.table)}`, `    userColumn: ${y(d.userPermissions.userColumn)}`, `    permissionColumn: ${y(d.userPermissions.otherColumn)}`);
  } else {
    push(`  # No \`user_permissions\` many-to-many found (${d.userPermissionsWhy}).`, '  permissions: false');
  }
  push('');
  if (d.groups) {
    push("# django.contrib.auth's Group (auth_group) was found.", 'groups:', '  table: auth_group', '  id: id', '  name: name');
    push(d.groupPermissions ? '  permissions:\n    table: auth_group_permissions\n    groupColumn: group_id\n    permissionColumn: permission_id' : '  permissions: false        # no auth_group_permissions table');
  } else {
    push('# No auth_group table: no groups are served.', 'groups: false');
  }
  push('');
  if (d.permissions) {
    push("# django.contrib.auth's Permission (auth_permission) and django_content_type were found.", 'permissions:', '  table: auth_permission', '  id: id', '  codename: codename', '  name: name', '  contentType: content_type_id', '  contentTypeTable: django_content_type', '  contentTypeId: id', '  appLabel: app_label');
  } else {
    push('# No auth_permission or django_content_type table: no permissions are served.', 'permissions: false');
  }
  push('', 'log:', `  level: ${y(config.log.level)}`, `  format: ${y(config.log.format)}`, '');
  return L.join('\n');
}

export async function runInit(opts: InitOptions): Promise<number> {
  const toStdout = opts.out === '-';
  const out = toStdout ? '-' : resolve(process.cwd(), opts.out);
  if (!toStdout) {
    const ext = extname(out).toLowerCase();
    if (ext !== '.yaml' && ext !== '.yml') throw new CommandError(`init: --out ${opts.out}: init writes YAML with comments; name the file .yaml or .yml`, 2);
    if (existsSync(out) && !opts.force) throw new CommandError(`init: ${opts.out} already exists; pass --force to overwrite it`, 2);
  }
  // baseDn need not be known yet: a placeholder, marked as such in the file.
  const env = { ...process.env };
  const baseDnPlaceholder = !opts.baseDn && !env.DJANGO_LDAP_BASE_DN;
  if (baseDnPlaceholder) env.DJANGO_LDAP_BASE_DN = PLACEHOLDER_BASE_DN;
  const config = loadCommandConfig(opts, env);
  const placeholder = baseDnPlaceholder && config.tree.baseDn === PLACEHOLDER_BASE_DN;

  // A password stays out of the file: PostgreSQL takes it from PGPASSWORD or ~/.pgpass; for
  // MySQL the whole URL goes in DATABASE_URL.
  let dbLine: DatabaseLine = { url: config.database };
  const target = parseDatabaseUrl(config.database, process.cwd());
  if (target.kind === 'postgres' && target.password !== undefined) {
    const stripped = withoutPassword(target);
    if (!stripped) throw new CommandError('init: the database URL holds a password and cannot be rewritten without it: give the URL without the password and the password in PGPASSWORD', 2);
    dbLine = { url: stripped, note: 'The password in the URL is not written here: give it in PGPASSWORD or ~/.pgpass.' };
  } else if (target.kind === 'mysql' && target.password !== undefined) {
    dbLine = { fromEnv: redactDatabaseUrl(config.database) };
  }
  const shownDatabase = 'fromEnv' in dbLine ? dbLine.fromEnv : dbLine.url;

  const opened = (() => {
    try {
      return openStore({ database: config.database, django: DEFAULT_DJANGO_MAPPING, db: config.db });
    } catch (e) {
      throw new CommandError(`init: cannot use the database ${redactDatabaseUrl(config.database)}: ${(e as Error).message}`, 1);
    }
  })();
  let d: Detection;
  try {
    const ins = inspectorOf(opened);
    if (!ins) throw new CommandError(`init: the ${opened.kind} store cannot be inspected`, 1);
    try {
      await opened.ping();
    } catch (e) {
      throw new CommandError(`init: cannot use the database ${redactDatabaseUrl(config.database)}: ${(e as Error).message}`, 1);
    }
    d = await detect(ins, opts);
  } finally {
    await opened.close().catch(() => {});
  }

  const text = render(config, d, dbLine, placeholder);

  // Check before putting it in place: it loads, and the bridge's start-up schema check passes.
  const dir = toStdout ? process.cwd() : dirname(out);
  const tmp = join(dir, `.${toStdout ? 'bridge' : basename(out, extname(out))}.${process.pid}.init.yaml`);
  writeFileSync(tmp, text, { mode: 0o640 });
  try {
    let written: BridgeConfig;
    try {
      written = loadConfig({ flags: { config: tmp }, env: 'fromEnv' in dbLine ? { DATABASE_URL: config.database } : {}, cwd: process.cwd() });
    } catch (e) {
      const problems = e instanceof ConfigError ? e.problems.join('; ') : (e as Error).message;
      throw new CommandError(`init: the file it made does not load (a bug; please report it): ${problems}`, 1);
    }
    const check = openStore({ ...written, database: config.database });
    try {
      await check.verifySchema();
    } catch (e) {
      throw new CommandError(`init: the bridge's schema check fails on the file it made: ${(e as Error).message}`, 1);
    } finally {
      await check.close().catch(() => {});
    }
    if (toStdout) {
      process.stdout.write(text);
    } else if (opts.force) {
      renameSync(tmp, out);
    } else {
      try {
        linkSync(tmp, out); // fails if the file appeared meanwhile: never overwrite without --force
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CommandError(`init: ${opts.out} already exists; pass --force to overwrite it`, 2);
        throw e;
      }
    }
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }

  const say = (s: string) => (toStdout ? process.stderr : process.stdout).write(s + '\n');
  say(`${toStdout ? 'config for' : `wrote ${opts.out} for`} ${redactDatabaseUrl(shownDatabase)}:`);
  say(`  user model   ${d.userTable} (${d.why.join('; ')})`);
  say(`  uid          ${d.usernameField} (${d.usernameWhy})`);
  const missing = Object.entries(d.columns).filter(([, v]) => v === null);
  if (missing.length) say(`  not in it    ${missing.map(([k]) => k).join(', ')} (null)`);
  say(`  groups       ${d.userGroups ? d.userGroups.table : `none (${d.userGroupsWhy})`}`);
  say(`  permissions  ${d.userPermissions ? d.userPermissions.table : `none (${d.userPermissionsWhy})`}`);
  if ('fromEnv' in dbLine) say('  the database URL (it holds a password) is not in the file: set DATABASE_URL when running the bridge');
  else if (dbLine.note) say('  the database password is not in the file: set PGPASSWORD (or ~/.pgpass) when running the bridge');
  if (placeholder) say(`  baseDn is the placeholder ${PLACEHOLDER_BASE_DN}: change it, or run init again with --base-dn`);
  say(`next: django-ldap-bridge doctor --config ${toStdout ? '<file>' : opts.out}`);
  return 0;
}
