// Changes to a SQLite database made from another process, as Django would make them (the
// bridge holds a read lock for at most one event-loop turn; a writer in the test's own process
// would wait on it synchronously and block that turn from ending). And for the opt-in writes
// (issue #13): PostgreSQL roles that may only read or only write, ldappasswd, and what real
// Django says of the passwords.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { PG_HOST, PG_PORT, MYSQL_HOST, MYSQL_PORT, postgresAvailable, djangoShell } from './django.js';
import { recordSecrets } from './secrets.js';
import { client } from './bridge.js';

/** Runs SQL statements in another process, each in its own transaction. */
export function sqliteWrites(path, statements) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 5000 });
    for (const s of JSON.parse(process.argv[2])) db.prepare(s).run();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, path, JSON.stringify(statements)], { cwd: process.cwd() });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
  });
}

async function pgRun(user, database, statements) {
  const c = new pg.Client({ host: PG_HOST, port: PG_PORT, user, database, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end().catch(() => {});
  }
}

/** The write role's GRANT from docs/operations.md (its role named ldap_writer there): the
 * PostgreSQL one (`TO ldap_writer;`), or with engine 'mysql' the MySQL/MariaDB one
 * (`TO 'ldap_writer'@'%';`). */
export function documentedGrant(engine = 'postgres') {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'operations.md'), 'utf8');
  const to = engine === 'mysql' ? "TO 'ldap_writer'@'%';" : 'TO ldap_writer;';
  const line = doc.split('\n').find((l) => l.startsWith('GRANT ') && l.trimEnd().endsWith(to));
  if (!line) throw new Error(`docs/operations.md has no GRANT ... ${to} line`);
  return line.trimEnd().replace(/;$/, '');
}

/**
 * Two login roles on a PostgreSQL database made by makeDjangoDatabase: `read` may only SELECT
 * (every table), `write` may SELECT and UPDATE only auth_user's password and last_login.
 * Returns their URLs and drop() (call it after the database is dropped).
 */
export async function pgReadWriteRoles(db) {
  const { user: admin } = await postgresAvailable();
  const tag = randomBytes(4).toString('hex');
  const read = { name: `dlb_read_${tag}`, password: `read-${randomBytes(8).toString('hex')}` };
  const write = { name: `dlb_write_${tag}`, password: `write-${randomBytes(8).toString('hex')}` };
  recordSecrets([read.password, write.password]);
  await pgRun(admin, 'postgres', [
    `CREATE ROLE ${read.name} LOGIN PASSWORD '${read.password}'`,
    `CREATE ROLE ${write.name} LOGIN PASSWORD '${write.password}'`,
  ]);
  await pgRun(admin, db.name, [
    `GRANT USAGE ON SCHEMA public TO ${read.name}, ${write.name}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${read.name}`,
    // The grant docs/operations.md tells operators to run, as it stands there.
    documentedGrant().replace(/\bldap_writer\b/, write.name),
  ]);
  const url = (r) => `postgres://${r.name}:${r.password}@${PG_HOST}:${PG_PORT}/${db.name}`;
  return {
    readUrl: url(read),
    writeUrl: url(write),
    read: read.name,
    write: write.name,
    /** What the role may do to auth_user, as PostgreSQL says. */
    async privileges(role) {
      const c = new pg.Client({ host: PG_HOST, port: PG_PORT, user: admin, database: db.name });
      await c.connect();
      try {
        const r = await c.query("SELECT has_table_privilege($1, 'auth_user', 'UPDATE') AS t, has_column_privilege($1, 'auth_user', 'password', 'UPDATE') AS p, has_column_privilege($1, 'auth_user', 'last_login', 'UPDATE') AS l", [role]);
        return { table: r.rows[0].t, password: r.rows[0].p, lastLogin: r.rows[0].l };
      } finally {
        await c.end().catch(() => {});
      }
    },
    drop: () => pgRun(admin, 'postgres', [`DROP ROLE IF EXISTS ${read.name}`, `DROP ROLE IF EXISTS ${write.name}`]),
  };
}

async function mysqlRoot(statements, values = []) {
  const c = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', connectTimeout: 5000 });
  try {
    let last;
    for (const s of statements) [last] = await c.query(s, values);
    return last;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * The same on a MySQL/MariaDB database made by makeDjangoDatabase({ engine: 'mysql' }): a user
 * `read` that may only SELECT (the whole database) and a user `write` given the grant
 * docs/operations.md shows (the database's name put for `site`).
 */
export async function mysqlReadWriteUsers(db) {
  const tag = randomBytes(4).toString('hex');
  const read = { name: `dlb_r_${tag}`, password: `read-${randomBytes(8).toString('hex')}` };
  const write = { name: `dlb_w_${tag}`, password: `write-${randomBytes(8).toString('hex')}` };
  recordSecrets([read.password, write.password]);
  const grant = documentedGrant('mysql')
    .replace(/\bsite\.auth_user\b/, `\`${db.name}\`.auth_user`)
    .replace(`'ldap_writer'@'%'`, `'${write.name}'@'%'`);
  await mysqlRoot([
    `CREATE USER '${read.name}'@'%' IDENTIFIED BY '${read.password}'`,
    `CREATE USER '${write.name}'@'%' IDENTIFIED BY '${write.password}'`,
    `GRANT SELECT ON \`${db.name}\`.* TO '${read.name}'@'%'`,
    grant,
  ]);
  const url = (u) => `mysql://${u.name}:${u.password}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`;
  return {
    readUrl: url(read),
    writeUrl: url(write),
    read: read.name,
    write: write.name,
    /** What the user may UPDATE in auth_user, from the server's privilege tables. */
    async privileges(user) {
      const grantee = `'${user}'@'%'`;
      const t = await mysqlRoot(["SELECT COUNT(*) AS n FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ? AND TABLE_NAME = 'auth_user' AND PRIVILEGE_TYPE = 'UPDATE'"], [grantee, db.name]);
      const s = await mysqlRoot(["SELECT COUNT(*) AS n FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ? AND PRIVILEGE_TYPE = 'UPDATE'"], [grantee, db.name]);
      const g = await mysqlRoot(["SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = 'UPDATE'"], [grantee]);
      const col = async (c) => Number((await mysqlRoot(["SELECT COUNT(*) AS n FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ? AND TABLE_NAME = 'auth_user' AND COLUMN_NAME = ? AND PRIVILEGE_TYPE = 'UPDATE'"], [grantee, db.name, c]))[0].n) > 0;
      const table = Number(t[0].n) + Number(s[0].n) + Number(g[0].n) > 0;
      return { table, password: table || (await col('password')), lastLogin: table || (await col('last_login')) };
    },
    drop: () => mysqlRoot([`DROP USER IF EXISTS '${read.name}'@'%'`, `DROP USER IF EXISTS '${write.name}'@'%'`]),
  };
}

/** Tries one UPDATE of auth_user as the user at `url`; resolves with the server's error code, or null when it was allowed. */
export async function mysqlUpdateError(url) {
  const u = new URL(url);
  const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1), connectTimeout: 5000 });
  try {
    await c.query("UPDATE auth_user SET password = password WHERE username = 'nobody-at-all'");
    return null;
  } catch (e) {
    return e.code;
  } finally {
    await c.end().catch(() => {});
  }
}

const pwDir = mkdtempSync(join(tmpdir(), 'dlb-passwd-'));
let files = 0;
function secretFile(value) {
  const f = join(pwDir, `s${files++}`);
  writeFileSync(f, value, { mode: 0o600 });
  return f;
}

/**
 * Runs the real `ldappasswd` (passwords in files, never on the command line).
 * { bindDn, bindPassword, oldPassword, newPassword, user, startTls } -> { code, rc, stdout, stderr, text }
 * (rc: the LDAP result code it printed; 0 on success)
 */
export function ldappasswd(url, { bindDn, bindPassword, oldPassword, newPassword, user, startTls = false } = {}) {
  const args = ['-x', '-H', url];
  if (startTls) args.push('-ZZ');
  if (bindDn !== undefined) args.push('-D', bindDn, '-y', secretFile(bindPassword));
  if (oldPassword !== undefined) args.push('-t', secretFile(oldPassword));
  if (newPassword !== undefined) args.push('-T', secretFile(newPassword));
  if (user !== undefined) args.push(user);
  return new Promise((resolve) => {
    execFile('ldappasswd', args, { env: { ...process.env, LDAPTLS_REQCERT: 'never', LDAPCONF: '/dev/null', LDAPRC: '/dev/null' }, timeout: 30000 }, (err, stdout, stderr) => {
      // ldappasswd exits 1 on any failure; the LDAP result code is in what it prints:
      // "Result: Constraint violation (19)", or "ldap_bind: Invalid credentials (49)".
      const printed = /^(?:Result|ldap_bind|ldap_start_tls): .*\((\d+)\)$/m.exec(stdout + stderr);
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, rc: code === 0 ? 0 : printed ? Number(printed[1]) : -1, stdout, stderr, text: stdout + stderr });
    });
  });
}

/**
 * What real Django says of a user's passwords: check_password() of each, authenticate() with
 * each (rolled back, so a re-hash on login does not change the database), and the stored
 * hash's algorithm and iterations.
 */
export async function djangoPasswords(env, username, passwords) {
  const code = `
import json
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, identify_hasher
u = User.objects.get(**{User.USERNAME_FIELD: ${JSON.stringify(username)}})
out = {'check': [], 'authenticate': []}
for p in ${JSON.stringify(passwords)}:
    out['check'].append(check_password(p, u.password))
    with transaction.atomic():
        out['authenticate'].append(authenticate(username=${JSON.stringify(username)}, password=p) is not None)
        transaction.set_rollback(True)
d = identify_hasher(u.password).decode(u.password)
out['algorithm'] = d['algorithm']
out['iterations'] = d.get('iterations')
out['lastLogin'] = u.last_login.isoformat() if u.last_login else None
print(json.dumps(out))
`;
  return JSON.parse(await djangoShell(env, code));
}

/** The stored password and last_login of every user, as Django reads them (to show nothing changed). */
export async function djangoUserRows(env) {
  return JSON.parse(await djangoShell(env, `
import json
print(json.dumps({u.get_username(): [u.password, u.last_login.isoformat() if u.last_login else None] for u in User.objects.order_by('pk')}))
`));
}

/** A self-signed certificate for 127.0.0.1, in a new directory. */
export function selfSignedCert() {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-writes-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** Django's common-passwords list, as the installed Django names it. */
export async function djangoCommonPasswordsPath(env) {
  return (await djangoShell(env, 'from django.contrib.auth.password_validation import CommonPasswordValidator as C\nprint(C.DEFAULT_PASSWORD_LIST_PATH)')).trim();
}

/** One simple bind on a fresh connection: 0, or the LDAP result code it failed with. */
export async function bindCode(url, dn, password) {
  const c = client(url);
  try {
    await c.bind(dn, password);
    return 0;
  } catch (e) {
    return e.code;
  } finally {
    await c.close().catch(() => {});
  }
}
