// Builds the benchmark directory (lib/data.mjs) three ways:
//   - a SQLite Django database (the Django 3.2 schema of src/django/demo-schema.sql),
//   - a PostgreSQL Django database: schema by REAL Django (`python3 -m django migrate`), rows by
//     SQL generate_series (1,000,000 users in a few minutes), kept between runs,
//   - a MySQL/MariaDB Django database of 1,000 users (schema by real Django's migrate, rows
//     inserted from the same formulas), rebuilt on every run (a second or two),
//   - an LDIF for slapd (back-mdb, loaded with slapadd), users with {SSHA} passwords.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import * as D from './data.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(ROOT, 'bench');
// v2: groups hold two permissions each (D.groupPerms), not one: real-shaped entries.
const DATA_VERSION = 'dlb-bench-data-v2';

function run(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || stdout || err.message).toString().trim()}`));
      else res({ stdout, stderr });
    });
  });
}

// ------------------------------------------------------------------ SQLite

/** A SQLite Django database of n users (reused when its sidecar says it matches). */
export function sqliteDatabase(path, n, hash) {
  const meta = `${path}.json`;
  const want = { version: DATA_VERSION, users: n, hash };
  if (existsSync(path) && existsSync(meta)) {
    try {
      const got = JSON.parse(readFileSync(meta, 'utf8'));
      const db = new Database(path, { readonly: true });
      const count = db.prepare('SELECT COUNT(*) AS n FROM auth_user').get().n;
      const memberships = db.prepare('SELECT COUNT(*) AS n FROM auth_user_groups').get().n;
      db.close();
      if (JSON.stringify(got) === JSON.stringify(want) && count === n && memberships === n * D.GROUPS_PER_USER + Math.min(n, D.BIG_MAX)) return { path, built: false };
    } catch {
      // rebuild
    }
  }
  rmSync(path, { force: true });
  rmSync(meta, { force: true });
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.exec(readFileSync(join(ROOT, 'src/django/demo-schema.sql'), 'utf8'));
  const now = '2024-01-01 00:00:00';
  db.transaction(() => {
    const ct = db.prepare("INSERT INTO django_content_type (app_label, model) VALUES ('bench', ?)");
    const perm = db.prepare('INSERT INTO auth_permission (content_type_id, codename, name) VALUES (?, ?, ?)');
    const permIds = [];
    for (let c = 0; c < D.PERMISSIONS / 10; c++) {
      const ctId = Number(ct.run(`m${c}`).lastInsertRowid);
      for (let j = 0; j < 10; j++) permIds.push(Number(perm.run(ctId, `perm${c * 10 + j}`, `Can perm ${c * 10 + j}`).lastInsertRowid));
    }
    const grp = db.prepare('INSERT INTO auth_group (id, name) VALUES (?, ?)');
    const gp = db.prepare('INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (?, ?)');
    for (let g = 1; g <= D.GROUPS; g++) {
      grp.run(g, D.groupName(g));
      for (const j of D.groupPerms(g)) gp.run(g, permIds[j]);
    }
    grp.run(D.BIG_ID, D.BIG_NAME);
    const user = db.prepare('INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, ?, NULL, 0, ?, ?, ?, ?, 0, 1, ?)');
    const ug = db.prepare('INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)');
    const up = db.prepare('INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (?, ?)');
    for (let i = 1; i <= n; i++) {
      user.run(i, hash, D.username(i), `First${i}`, `Last${i}`, `${D.username(i)}@example.com`, now);
      for (let k = 0; k < D.GROUPS_PER_USER; k++) ug.run(i, D.groupOf(i, k));
      if (i <= D.BIG_MAX) ug.run(i, D.BIG_ID);
      up.run(i, permIds[i % D.RESIDUES]);
    }
  })();
  db.exec('ANALYZE');
  db.close();
  writeFileSync(meta, JSON.stringify(want));
  return { path, built: true };
}

// ------------------------------------------------------------------ slapd

export function ssha(password) {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** The same directory as LDIF for slapadd (n users, every group as groupOfNames). */
export async function writeLdif(path, n) {
  const out = createWriteStream(path);
  const w = (s) => (out.write(s) ? undefined : new Promise((r) => out.once('drain', r)));
  await w(`dn: ${D.BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n`);
  for (const ou of ['users', 'groups', 'services']) await w(`dn: ou=${ou},${D.BASE}\nobjectClass: organizationalUnit\nou: ${ou}\n\n`);
  await w(`dn: ${D.SVC_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: apache\nuserPassword: ${ssha(D.SVC_PW)}\n\n`);
  for (let i = 1; i <= n; i++) {
    const u = D.username(i);
    await w(`dn: ${D.userDn(i)}\nobjectClass: inetOrgPerson\nuid: ${u}\ncn: First${i} Last${i}\nsn: Last${i}\ngivenName: First${i}\nmail: ${u}@example.com\nuserPassword: ${ssha(D.USER_PW)}\n\n`);
  }
  for (let g = 1; g <= D.BIG_ID; g++) {
    const members = [];
    if (g === D.BIG_ID) for (let i = 1; i <= Math.min(n, D.BIG_MAX); i++) members.push(i);
    else for (let i = (g - 1) % D.RESIDUES || D.RESIDUES; i <= n; i += D.RESIDUES) members.push(i);
    if (!members.length) continue; // groupOfNames must have a member
    await w(`dn: ${D.groupDn(g)}\nobjectClass: groupOfNames\ncn: ${D.groupName(g)}\n${members.map((i) => `member: ${D.userDn(i)}\n`).join('')}\n`);
  }
  await new Promise((r) => out.end(r));
}

// ------------------------------------------------------------------ PostgreSQL

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const pgUrl = (db) => `postgres://${PG.user}@${PG.host}:${PG.port}/${db}`;

async function pgClient(database) {
  const c = new pg.Client({ ...PG, database, connectionTimeoutMillis: 5000 });
  await c.connect();
  return c;
}

export async function postgresAvailable() {
  try {
    const c = await pgClient('postgres');
    const v = (await c.query('SHOW server_version')).rows[0].server_version;
    await c.end();
    return { ok: true, version: v };
  } catch (e) {
    return { ok: false, reason: e.message };
  }
}

/**
 * Reads a database's user and membership tables and all their indexes once (pg_prewarm,
 * 'read': into the OS page cache), so that latency rounds measure a running site's warm
 * database, not the first touch of each page after a reboot or a rebuild (random users over a
 * million rows would otherwise read most pages from disk in the first round). Returns seconds.
 */
export async function warmPostgres(name, tables = ['auth_user', 'auth_user_groups']) {
  const t0 = performance.now();
  const c = await pgClient(name);
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    for (const t of tables) {
      await c.query("SELECT pg_prewarm($1::regclass, 'read')", [t]);
      const idx = await c.query('SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = $1::regclass', [t]);
      for (const r of idx.rows) await c.query("SELECT pg_prewarm($1::regclass, 'read')", [r.i]);
    }
  } finally {
    await c.end().catch(() => {});
  }
  return (performance.now() - t0) / 1000;
}

/** The expected row counts of a database of n users. */
function expectedCounts(n) {
  return { auth_user: n, auth_group: D.BIG_ID, auth_user_groups: n * D.GROUPS_PER_USER + Math.min(n, D.BIG_MAX), auth_user_user_permissions: n, auth_group_permissions: D.GROUPS * D.PERMS_PER_GROUP };
}

async function pgMatches(name, n, hash) {
  let c;
  try {
    c = await pgClient(name);
  } catch {
    return false;
  }
  try {
    const comment = (await c.query('SELECT shobj_description(oid, $1) AS d FROM pg_database WHERE datname = current_database()', ['pg_database'])).rows[0]?.d;
    if (comment !== `${DATA_VERSION} users=${n} hash=${hash}`) return false;
    for (const [table, count] of Object.entries(expectedCounts(n))) {
      const got = Number((await c.query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0].n);
      if (got !== count) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * A PostgreSQL Django database `name` with n users: kept when it exists with the right row
 * counts (and the same data version and hash), else (or with fresh) dropped and rebuilt.
 * Returns { url, built, seconds }.
 */
export async function postgresDatabase(name, n, hash, { fresh = false, log = () => {} } = {}) {
  const t0 = performance.now();
  if (!fresh && (await pgMatches(name, n, hash))) return { url: pgUrl(name), built: false, seconds: (performance.now() - t0) / 1000 };
  log(`building PostgreSQL database ${name} (${n.toLocaleString('en')} users) ...`);
  const admin = await pgClient('postgres');
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  // The schema, by real Django 3.2 (contenttypes + auth migrations).
  await run('/usr/bin/python3', ['-m', 'django', 'migrate', '--no-input', '-v', '0'], {
    env: { PATH: process.env.PATH, PYTHONPATH: join(BENCH_DIR, 'django'), DJANGO_SETTINGS_MODULE: 'bench_settings', BENCH_DB_ENGINE: 'postgres', BENCH_DB_NAME: name, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const tMigrate = performance.now();
  const c = await pgClient(name);
  try {
    await c.query("SET maintenance_work_mem = '1GB'");
    await c.query('SET synchronous_commit = off');
    await c.query('SET max_parallel_maintenance_workers = 2');
    // Take the bulk tables' foreign keys, unique constraints and indexes off, load, put them
    // back exactly as Django made them (pg_get_constraintdef / pg_indexes).
    const tables = ['auth_user', 'auth_group', 'auth_user_groups', 'auth_user_user_permissions', 'auth_group_permissions'];
    const cons = (await c.query("SELECT conrelid::regclass::text AS t, conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = ANY ($1::regclass[]) AND contype IN ('f', 'u') ORDER BY contype", [tables])).rows;
    const conNames = new Set(cons.map((x) => x.conname));
    const idx = (await c.query("SELECT tablename AS t, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY ($1) AND indexname NOT LIKE '%\\_pkey'", [tables])).rows.filter((x) => !conNames.has(x.indexname));
    for (const x of cons.filter((x) => x.contype === 'f')) await c.query(`ALTER TABLE ${x.t} DROP CONSTRAINT "${x.conname}"`);
    for (const x of cons.filter((x) => x.contype === 'u')) await c.query(`ALTER TABLE ${x.t} DROP CONSTRAINT "${x.conname}"`);
    for (const x of idx) await c.query(`DROP INDEX "${x.indexname}"`);

    await c.query("INSERT INTO django_content_type (app_label, model) SELECT 'bench', 'm' || c FROM generate_series(0, 49) c ORDER BY c");
    await c.query("INSERT INTO auth_permission (content_type_id, codename, name) SELECT ct.id, 'perm' || j, 'Can perm ' || j FROM generate_series(0, 499) j JOIN django_content_type ct ON ct.app_label = 'bench' AND ct.model = 'm' || (j / 10) ORDER BY j");
    const p0 = Number((await c.query("SELECT MIN(p.id) AS id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ct.app_label = 'bench'")).rows[0].id);
    await c.query("INSERT INTO auth_group (id, name) SELECT g, 'g' || lpad(g::text, 5, '0') FROM generate_series(1, $1::int) g", [D.GROUPS]);
    await c.query('INSERT INTO auth_group (id, name) VALUES ($1, $2)', [D.BIG_ID, D.BIG_NAME]);
    await c.query("SELECT setval(pg_get_serial_sequence('auth_group', 'id'), $1)", [D.BIG_ID]);
    // D.groupPerms(g) in SQL: residue r = (g-1) % 500, block k = (g-1) / 500, perms (r + 25k) % 500 and (r + 25k + 12) % 500.
    await c.query(
      'INSERT INTO auth_group_permissions (group_id, permission_id) SELECT g, $1::int + ((g - 1) % $3::int + $4::int * ((g - 1) / $3::int) + o) % $5::int FROM generate_series(1, $2::int) g, unnest($6::int[]) o ORDER BY g, o',
      [p0, D.GROUPS, D.RESIDUES, D.RESIDUES / D.GROUPS_PER_USER, D.PERMISSIONS, [0, Math.floor(D.RESIDUES / D.GROUPS_PER_USER / 2)]],
    );
    await c.query(
      "INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) SELECT i, $1, NULL, false, 'u' || lpad(i::text, 7, '0'), 'First' || i, 'Last' || i, 'u' || lpad(i::text, 7, '0') || '@example.com', false, true, '2024-01-01 00:00:00+00' FROM generate_series(1, $2::int) i",
      [hash, n],
    );
    await c.query("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), $1)", [n]);
    await c.query('INSERT INTO auth_user_user_permissions (user_id, permission_id) SELECT i, $1::int + i % 500 FROM generate_series(1, $2::int) i', [p0, n]);
    await c.query('INSERT INTO auth_user_groups (user_id, group_id) SELECT i, 1 + (i % 500) + 500 * k FROM generate_series(1, $1::int) i, generate_series(0, 19) k', [n]);
    await c.query('INSERT INTO auth_user_groups (user_id, group_id) SELECT i, $1::int FROM generate_series(1, $2::int) i', [D.BIG_ID, Math.min(n, D.BIG_MAX)]);
    const tLoad = performance.now();
    for (const x of idx) await c.query(x.indexdef);
    for (const x of cons.filter((x) => x.contype === 'u')) await c.query(`ALTER TABLE ${x.t} ADD CONSTRAINT "${x.conname}" ${x.def}`);
    for (const x of cons.filter((x) => x.contype === 'f')) await c.query(`ALTER TABLE ${x.t} ADD CONSTRAINT "${x.conname}" ${x.def}`);
    const tIndex = performance.now();
    for (const t of tables) await c.query(`VACUUM (ANALYZE) ${t}`);
    await c.query(`COMMENT ON DATABASE "${name}" IS '${DATA_VERSION} users=${n} hash=${hash}'`);
    const t1 = performance.now();
    log(`  migrate ${((tMigrate - t0) / 1000).toFixed(1)} s, rows ${((tLoad - tMigrate) / 1000).toFixed(1)} s, indexes+constraints ${((tIndex - tLoad) / 1000).toFixed(1)} s, vacuum analyze ${((t1 - tIndex) / 1000).toFixed(1)} s`);
  } finally {
    await c.end().catch(() => {});
  }
  if (!(await pgMatches(name, n, hash))) throw new Error(`the database ${name} does not have the expected rows after building it`);
  return { url: pgUrl(name), built: true, seconds: (performance.now() - t0) / 1000 };
}

// ------------------------------------------------------------------ MySQL / MariaDB

export const MY = { host: '127.0.0.1', port: 3306, user: 'root' };

export async function mysqlAvailable() {
  try {
    const c = await mysql.createConnection({ ...MY, connectTimeout: 5000 });
    const [rows] = await c.query('SELECT VERSION() AS v');
    await c.end();
    return { ok: true, version: String(rows[0].v) };
  } catch (e) {
    return { ok: false, reason: e.message };
  }
}

/** A MySQL/MariaDB Django database `name` of n users (small n: rows go in from here), built
 * afresh: schema by Django's migrate, the same rows as the PostgreSQL builder. Returns { url }. */
export async function mysqlDatabase(name, n, hash, { log = () => {} } = {}) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const t0 = performance.now();
  const admin = await mysql.createConnection({ ...MY, connectTimeout: 5000 });
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  await run('/usr/bin/python3', ['-m', 'django', 'migrate', '--no-input', '-v', '0'], {
    env: { PATH: process.env.PATH, PYTHONPATH: join(BENCH_DIR, 'django'), DJANGO_SETTINGS_MODULE: 'bench_settings', BENCH_DB_ENGINE: 'mysql', BENCH_DB_NAME: name, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const c = await mysql.createConnection({ ...MY, database: name, connectTimeout: 5000 });
  try {
    const batch = async (sql, rows) => {
      for (let i = 0; i < rows.length; i += 5000) await c.query(sql, [rows.slice(i, i + 5000)]);
    };
    await batch('INSERT INTO django_content_type (app_label, model) VALUES ?', Array.from({ length: 50 }, (_, k) => ['bench', `m${k}`]));
    const [cts] = await c.query("SELECT id, model FROM django_content_type WHERE app_label = 'bench'");
    const ct = new Map(cts.map((r) => [r.model, r.id]));
    await batch('INSERT INTO auth_permission (content_type_id, codename, name) VALUES ?', Array.from({ length: D.PERMISSIONS }, (_, j) => [ct.get(`m${Math.floor(j / 10)}`), `perm${j}`, `Can perm ${j}`]));
    const [[{ p0 }]] = await c.query("SELECT MIN(p.id) AS p0 FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ct.app_label = 'bench'");
    await batch('INSERT INTO auth_group (id, name) VALUES ?', [...Array.from({ length: D.GROUPS }, (_, k) => [k + 1, D.groupName(k + 1)]), [D.BIG_ID, D.BIG_NAME]]);
    await batch('INSERT INTO auth_group_permissions (group_id, permission_id) VALUES ?', Array.from({ length: D.GROUPS }, (_, k) => D.groupPerms(k + 1).map((j) => [k + 1, p0 + j])).flat());
    const users = Array.from({ length: n }, (_, k) => {
      const i = k + 1;
      return [i, hash, null, 0, D.username(i), `First${i}`, `Last${i}`, `${D.username(i)}@example.com`, 0, 1, '2024-01-01 00:00:00'];
    });
    await batch('INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES ?', users);
    await batch('INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES ?', Array.from({ length: n }, (_, k) => [k + 1, p0 + ((k + 1) % D.PERMISSIONS)]));
    const memberships = [];
    for (let i = 1; i <= n; i++) for (let k = 0; k < D.GROUPS_PER_USER; k++) memberships.push([i, D.groupOf(i, k)]);
    for (let i = 1; i <= Math.min(n, D.BIG_MAX); i++) memberships.push([i, D.BIG_ID]);
    await batch('INSERT INTO auth_user_groups (user_id, group_id) VALUES ?', memberships);
    await c.query('ANALYZE TABLE auth_user, auth_group, auth_user_groups, auth_user_user_permissions, auth_group_permissions');
  } finally {
    await c.end().catch(() => {});
  }
  log(`  MySQL/MariaDB database ${name} (${n.toLocaleString('en')} users) built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { url: `mysql://${MY.user}@${MY.host}:${MY.port}/${name}` };
}
