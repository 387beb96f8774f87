// Test databases made by REAL Django (the project in test/django/).
//
//   const { ok, reason } = djangoAvailable({ engine: 'postgres' });
//   const db = await makeDjangoDatabase({ engine: 'sqlite' | 'postgres' | 'mysql', custom: false });
//   db.url       -> 'sqlite:///tmp/dlb-django-xxxx/db.sqlite3' | 'postgres://postgres@127.0.0.1:5432/dlb_test_xxxx'
//                   | 'mysql://root@127.0.0.1:3306/dlb_test_xxxx'
//   makeDjangoDatabase({ engine: 'mysql', collation: 'utf8mb4_bin' }) -> that default collation
//   makeDjangoDatabase({ otp: true }) -> django-otp and its TOTP plugin installed (otp_totp_totpdevice)
//                   (without: the server's default for utf8mb4, as a real site gets it)
//   db.expected  -> the JSON printed by test/django/populate.py (what Django says about the data)
//   db.env       -> the DLB_* variables that point the Django project at this database
//   await djangoShell(db.env, "User.objects.filter(username='alice').update(is_active=False)");
//   await db.drop();
//
// Nothing is cached between calls: every database is migrated and populated from scratch.
import { recordDjangoSecrets } from './secrets.js';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';

export const PYTHON = process.env.DLB_TEST_PYTHON || '/usr/bin/python3';
export const DJANGO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'django');
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
const PG_USERS = ['postgres', 'root'];
export const MYSQL_HOST = '127.0.0.1';
export const MYSQL_PORT = 3306;
const MYSQL_USER = 'root'; // empty password
const PY_TIMEOUT_MS = 120_000;

/** Environment for the Python child: ours minus anything that could redirect Django or Python. */
function childEnv(env = {}) {
  const out = { ...process.env };
  for (const k of Object.keys(out)) {
    if (k.startsWith('DLB_DB_') || k === 'DLB_CUSTOM_USER' || k === 'DJANGO_SETTINGS_MODULE' ||
        k === 'PYTHONPATH' || k === 'PYTHONHOME' || k === 'PYTHONSTARTUP') delete out[k];
  }
  out.PYTHONDONTWRITEBYTECODE = '1'; // no __pycache__ in the source tree
  out.PYTHONIOENCODING = 'utf-8';
  return { ...out, ...env };
}

const availability = new Map();
/**
 * Can /usr/bin/python3 run the Django test project? Checks django (3.2.x, whose hashers and
 * defaults populate.py reproduces), argon2, bcrypt, crypt, and psycopg2 when engine is postgres
 * (MySQLdb, Debian python3-mysqldb, when engine is mysql).
 * @returns {{ ok: boolean, reason?: string, version?: string }}
 */
export function djangoAvailable({ engine = 'sqlite' } = {}) {
  if (availability.has(engine)) return availability.get(engine);
  const mods = ['django', 'argon2', 'bcrypt', 'crypt', ...(engine === 'postgres' ? ['psycopg2'] : []), ...(engine === 'mysql' ? ['MySQLdb'] : [])];
  const code = [
    'import sys, warnings',
    'warnings.simplefilter("ignore")',
    'missing = []',
    `for m in ${JSON.stringify(mods)}:`,
    '    try: __import__(m)',
    '    except Exception as e: missing.append("%s (%s)" % (m, e))',
    'if missing: print("missing Python modules: " + ", ".join(missing)); sys.exit(3)',
    'import django; print(django.get_version())',
  ].join('\n');
  let result;
  const r = spawnSync(PYTHON, ['-c', code], { env: childEnv(), encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    result = { ok: false, reason: `cannot run ${PYTHON}: ${r.error.message}` };
  } else if (r.status !== 0) {
    const msg = (r.stdout || r.stderr || '').trim();
    result = { ok: false, reason: `${msg || `${PYTHON} exited with ${r.status}`} (Debian: apt-get install -y python3-django python3-argon2 python3-bcrypt python3-psycopg2 python3-mysqldb)` };
  } else {
    const version = r.stdout.trim();
    result = version.startsWith('3.2.')
      ? { ok: true, version }
      : { ok: false, version, reason: `Django ${version} found; the test project reproduces Django 3.2 (python3-django on Debian 12)` };
  }
  availability.set(engine, result);
  return result;
}

let pgAvailability;
/**
 * Is PostgreSQL reachable at 127.0.0.1:5432 (trust auth) as `postgres`, or else as `root`?
 * @returns {Promise<{ ok: boolean, user?: string, reason?: string }>}
 */
export function postgresAvailable() {
  pgAvailability ??= (async () => {
    const errors = [];
    for (const user of PG_USERS) {
      const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user, database: 'postgres', connectionTimeoutMillis: 5000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return { ok: true, user };
      } catch (e) {
        errors.push(`${user}: ${e.message}`);
      } finally {
        await client.end().catch(() => {});
      }
    }
    return { ok: false, reason: `cannot connect to PostgreSQL at ${PG_HOST}:${PG_PORT} (${errors.join('; ')})` };
  })();
  return pgAvailability;
}

let mysqlAvailability;
/**
 * Is MySQL or MariaDB reachable at 127.0.0.1:3306 as root with an empty password?
 * @returns {Promise<{ ok: boolean, version?: string, reason?: string }>}
 */
export function mysqlAvailable() {
  mysqlAvailability ??= (async () => {
    try {
      const [rows] = await mysqlAdmin('SELECT VERSION() AS v');
      return { ok: true, version: String(rows[0].v) };
    } catch (e) {
      return { ok: false, reason: `cannot connect to MySQL/MariaDB at ${MYSQL_HOST}:${MYSQL_PORT} as ${MYSQL_USER} (${e.message})` };
    }
  })();
  return mysqlAvailability;
}

async function mysqlAdmin(sql) {
  const conn = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: MYSQL_USER, connectTimeout: 5000 });
  try {
    return await conn.query(sql);
  } finally {
    await conn.end().catch(() => {});
  }
}

async function pgAdmin(user, sql) {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user, database: 'postgres', connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs PYTHON with args (cwd-independent), optional stdin; resolves stdout, rejects with stderr. */
export function runPython(args, env, input) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), PY_TIMEOUT_MS);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`${PYTHON} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`));
    });
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

// SQLite temp dirs still present at exit (a test forgot drop()) are removed then.
const liveDirs = new Set();
process.on('exit', () => {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh database migrated and populated by Django.
 * @param {{ engine?: 'sqlite'|'postgres'|'mysql', custom?: boolean, collation?: string, otp?: boolean }} options
 *   collation (mysql only): the database's default collation, e.g. 'utf8mb4_bin' (or a legacy
 *   'utf8mb3_general_ci', whose tables cannot hold 4-byte characters).
 * @returns {Promise<{ url: string, expected: object, env: Record<string,string>,
 *   engine: string, name: string, timings: { migrateMs: number, populateMs: number },
 *   drop: () => Promise<void> }>}
 */
export async function makeDjangoDatabase({ engine = 'sqlite', custom = false, collation, otp = false } = {}) {
  const avail = djangoAvailable({ engine });
  if (!avail.ok) throw new Error(`Django unavailable: ${avail.reason}`);
  const env = { DLB_CUSTOM_USER: custom ? '1' : '0', DLB_OTP: otp ? '1' : '0' };
  let url;
  let name;
  let drop;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-django-'));
    liveDirs.add(dir);
    name = join(dir, 'db.sqlite3');
    Object.assign(env, { DLB_DB_ENGINE: 'sqlite', DLB_DB_NAME: name });
    url = `sqlite://${name}`; // name is absolute, so this reads sqlite:///tmp/...
    drop = async () => {
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    };
  } else if (engine === 'postgres') {
    const pgAvail = await postgresAvailable();
    if (!pgAvail.ok) throw new Error(`PostgreSQL unavailable: ${pgAvail.reason}`);
    const user = pgAvail.user;
    name = `dlb_test_${randomBytes(6).toString('hex')}`;
    await pgAdmin(user, `CREATE DATABASE "${name}"`);
    Object.assign(env, {
      DLB_DB_ENGINE: 'postgres', DLB_DB_NAME: name,
      DLB_DB_HOST: PG_HOST, DLB_DB_PORT: String(PG_PORT), DLB_DB_USER: user,
    });
    url = `postgres://${encodeURIComponent(user)}@${PG_HOST}:${PG_PORT}/${name}`;
    let dropped = false;
    drop = async () => {
      if (dropped) return;
      try {
        await pgAdmin(user, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } catch (e) {
        if (e.code !== '42601') throw e; // before PostgreSQL 13: no WITH (FORCE)
        await pgAdmin(user, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
        await pgAdmin(user, `DROP DATABASE IF EXISTS "${name}"`);
      }
      dropped = true;
    };
  } else if (engine === 'mysql') {
    const myAvail = await mysqlAvailable();
    if (!myAvail.ok) throw new Error(`MySQL unavailable: ${myAvail.reason}`);
    if (collation !== undefined && !/^utf8mb[34]_[a-z0-9_]+$/.test(collation)) throw new Error(`not a utf8mb4 (or legacy utf8mb3) collation: ${collation}`);
    name = `dlb_test_${randomBytes(6).toString('hex')}`;
    await mysqlAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET ${collation ? `${collation.split('_')[0]} COLLATE ${collation}` : 'utf8mb4'}`);
    Object.assign(env, {
      DLB_DB_ENGINE: 'mysql', DLB_DB_NAME: name,
      DLB_DB_HOST: MYSQL_HOST, DLB_DB_PORT: String(MYSQL_PORT), DLB_DB_USER: MYSQL_USER,
    });
    url = `mysql://${MYSQL_USER}@${MYSQL_HOST}:${MYSQL_PORT}/${name}`;
    let dropped = false;
    drop = async () => {
      if (dropped) return;
      await mysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``);
      dropped = true;
    };
  } else {
    throw new Error(`engine must be 'sqlite', 'postgres' or 'mysql', not ${engine}`);
  }

  try {
    let t = performance.now();
    await runPython([join(DJANGO_DIR, 'manage.py'), 'migrate', '--no-input', '-v', '0'], env);
    const migrateMs = Math.round(performance.now() - t);
    t = performance.now();
    const { stdout } = await runPython([join(DJANGO_DIR, 'populate.py')], env);
    const populateMs = Math.round(performance.now() - t);
    let expected;
    try {
      expected = JSON.parse(stdout);
    } catch (e) {
      throw new Error(`populate.py printed something that is not JSON (${e.message}):\n${stdout.slice(0, 500)}`);
    }
    recordDjangoSecrets(expected);
    return { url, expected, env, engine, name, timings: { migrateMs, populateMs }, drop };
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
}

/**
 * Runs Python code (sent on stdin) with Django set up against the database described by env
 * (the `env` of makeDjangoDatabase). The code sees User (get_user_model()), Group, Permission,
 * make_password and transaction. Resolves with what it printed on stdout.
 */
export async function djangoShell(env, pythonCode) {
  const { stdout } = await runPython([join(DJANGO_DIR, 'shell.py')], env, pythonCode);
  return stdout;
}

/**
 * A django-otp TOTP device made through django-otp's own model (TOTPDevice), in a database made
 * with makeDjangoDatabase({ otp: true }). Returns the device as stored (id, key hex, step, t0,
 * digits, tolerance, drift, confirmed, last_t).
 */
export async function makeTotpDevice(env, { username, confirmed = true, digits = 6, tolerance = 1, drift = 0, step = 30, t0 = 0, lastT = -1, name = 'phone' }) {
  const spec = JSON.stringify({ username, confirmed, digits, tolerance, drift, step, t0, lastT, name });
  const out = await djangoShell(
    env,
    `import json
from django_otp.plugins.otp_totp.models import TOTPDevice
s = json.loads(${JSON.stringify(spec)})
d = TOTPDevice.objects.create(user=User.objects.get(username=s['username']), name=s['name'], confirmed=s['confirmed'], digits=s['digits'], tolerance=s['tolerance'], drift=s['drift'], step=s['step'], t0=s['t0'], last_t=s['lastT'])
print(json.dumps({'id': d.id, 'key': d.key, 'step': d.step, 't0': d.t0, 'digits': d.digits, 'tolerance': d.tolerance, 'drift': d.drift, 'confirmed': d.confirmed, 'lastT': d.last_t}))
`,
  );
  return JSON.parse(out.trim().split('\n').pop());
}

/** django-otp's verdict on a token for a stored device (TOTPDevice.verify_token, which also
 * stores last_t on success, as a Django login would). */
export async function djangoVerifyToken(env, deviceId, token) {
  const out = await djangoShell(
    env,
    `from django_otp.plugins.otp_totp.models import TOTPDevice
print('yes' if TOTPDevice.objects.get(id=${Number(deviceId)}).verify_token(${JSON.stringify(String(token))}) else 'no')
`,
  );
  return out.trim().split('\n').pop() === 'yes';
}

/** A table of SSH keys in the Django database (Django has none built in): made by the test,
 * through Django's own connection, in this file's database only. */
export async function makeSshKeyTable(env, rows) {
  const values = JSON.stringify(rows.map((r) => [r.userId, r.key, r.active]));
  await djangoShell(
    env,
    `from django.db import connection
import json
with connection.cursor() as c:
    c.execute("CREATE TABLE dlb_sshkey (id integer primary key, user_id integer not null, public_key text not null, enabled boolean not null)")
    for i, (u, k, a) in enumerate(json.loads(${JSON.stringify(values)})):
        c.execute("INSERT INTO dlb_sshkey (id, user_id, public_key, enabled) VALUES (%s, %s, %s, %s)", [i + 1, u, k, a])
`,
  );
}
