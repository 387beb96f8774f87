// The operator commands, run as an operator runs them (the real CLI in a child process) against
// databases made by real Django: `doctor` reports what Django says is there, `test-bind` answers
// as a bind would, `search` prints what ldapsearch sees from a running bridge, and `init` writes
// a config that loads, passes `doctor` and serves.
import { serve } from '../helpers/serve.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { need, hasCommand } from '../helpers/require.js';
import * as djangoHelpers from '../helpers/django.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, PYTHON } from '../helpers/django.js';
import { ldapTool, ldapsearch, parseLdif, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { loadConfig } from '../../dist/config/load.js';
import { startBridge } from '../../dist/bridge.js';
import { createLogger } from '../../dist/log.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { ldifLine, ldifNeedsBase64 } from '../../dist/commands/search.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME };
const djangoSkip = need('Django 3.2 (python3-django, python3-argon2, python3-bcrypt)', djangoAvailable().ok, djangoAvailable().reason);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');
const pgDjango = djangoAvailable({ engine: 'postgres' });
const pg = await postgresAvailable();
const pgSkip = djangoSkip || need('PostgreSQL on 127.0.0.1:5432 and psycopg2', pg.ok && pgDjango.ok, pg.ok ? pgDjango.reason : pg.reason);
// MySQL/MariaDB, where the test helpers offer it.
const my = typeof djangoHelpers.mysqlAvailable === 'function' ? await djangoHelpers.mysqlAvailable() : { ok: false, reason: 'the test helpers have no MySQL support' };
const myDjango = my.ok ? djangoAvailable({ engine: 'mysql' }) : my;
const mySkip = djangoSkip || need('MySQL/MariaDB on 127.0.0.1:3306 and its Django driver', my.ok && myDjango.ok, my.ok ? myDjango.reason : my.reason);

/** Runs the CLI; resolves { status, stdout, stderr }. */
function cli(args, { input = '', env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...ENV, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}


/** A config file for a database, with the test service account. */
async function configFile(url, extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-cmd-'));
  const file = join(dir, 'bridge.json');
  const doc = { database: url, baseDn: BASE, listen: ['ldap://127.0.0.1:0'], serviceAccounts: [{ dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) }], log: { level: 'warn', format: 'json' }, ...extra };
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** No password and no stored hash of any user ever appears in a command's output. */
function assertNoSecrets(db, ...texts) {
  for (const t of texts) {
    for (const u of db.expected.users) {
      assert.ok(!t.includes(u.encoded), `the hash of ${u.username} is printed`);
      if (u.password.length >= 6) assert.ok(!t.includes(u.password), `the password of ${u.username} is printed`);
    }
  }
}

const byHasher = (users) => {
  const m = {};
  for (const u of users) m[u.hasher] = (m[u.hasher] ?? 0) + 1;
  return m;
};

/** doctor --json's counts and hashers equal what Django says about the data. */
function assertDoctorMatchesDjango(report, db) {
  const users = db.expected.users;
  assert.equal(report.ok, true, JSON.stringify(report.errors));
  assert.deepEqual(report.errors, []);
  assert.equal(report.database.reachable, true);
  assert.deepEqual(report.counts, {
    users: users.length,
    activeUsers: users.filter((u) => u.isActive).length,
    inactiveUsers: users.filter((u) => !u.isActive).length,
    groups: db.expected.groups.length,
    permissions: db.expected.permissions.length,
  });
  assert.deepEqual(Object.fromEntries(report.hashers.map((h) => [h.hasher, h.users])), byHasher(users));
  assert.deepEqual(report.neverBind.inactive.usernames, users.filter((u) => !u.isActive).map((u) => u.username));
  assert.deepEqual(report.neverBind.unusablePassword.usernames, users.filter((u) => u.hasher === 'unusable').map((u) => u.username));
  assert.equal(report.neverBind.unknownHasher.count + report.neverBind.malformedHash.count, 0);
  assert.ok(report.indexes.length >= 6);
  for (const i of report.indexes) assert.equal(i.status, 'ok', `${i.table}(${i.columns}) ${i.status}`);
}

test('LDIF values are base64-encoded exactly when RFC 2849 requires it', () => {
  for (const v of ['alice', 'cn=a\\,b,dc=x', "O'Brien", 'a:b', 'x<y', 'tab\there', '']) assert.equal(ldifNeedsBase64(v), false, v);
  for (const v of ['José', ' leading', 'trailing ', ':colon', '<angle', 'new\nline', 'cr\rx', 'nul\0x', 'Ünïcödé']) assert.equal(ldifNeedsBase64(v), true, v);
  assert.equal(ldifLine('cn', ' leading space'), 'cn:: IGxlYWRpbmcgc3BhY2U=');
  assert.equal(ldifLine('sn', 'Smith'), 'sn: Smith');
  assert.equal(Buffer.from(ldifLine('cn', 'Ünïcödé').slice(4), 'base64').toString('utf8'), 'Ünïcödé');
});

test('every command has --help with examples and the config flags of serve', async () => {
  for (const cmd of ['doctor', 'test-bind', 'search', 'init']) {
    const r = await cli([cmd, '--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const flag of ['--config', '--database', '--base-dn', '--listen', '--log-level']) assert.match(r.stdout, new RegExp(flag), `${cmd} --help lacks ${flag}`);
    assert.match(r.stdout, /Examples:\n {2}django-ldap-bridge /, `${cmd} --help has no examples`);
  }
});

test('doctor: an unreachable database is an error (exit 1), its password never shown', async () => {
  const r = await cli(['doctor', '--database', 'postgres://nobody:hunter2@127.0.0.1:1/nodb', '--base-dn', BASE]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /not reachable/);
  assert.match(r.stdout, /ERROR: database: cannot use postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/nodb/);
  assert.ok(!(r.stdout + r.stderr).includes('hunter2'));
  const j = await cli(['doctor', '--database', 'sqlite:///nonexistent/dir/db.sqlite3', '--base-dn', BASE, '--json']);
  assert.equal(j.status, 1);
  const report = JSON.parse(j.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.database.reachable, false);
  const c = await cli(['doctor', '--base-dn', BASE]);
  assert.equal(c.status, 2, 'no database configured: a configuration error, as serve says it');
  assert.match(c.stderr, /database: required/);
});

describe('commands against a real Django database (SQLite)', { skip: djangoSkip }, () => {
  let db;
  let config;
  const users = () => db.expected.users;
  const user = (name) => users().find((u) => u.username === name);
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite' });
    config = await configFile(db.url);
  });
  after(async () => db?.drop());

  test('doctor --json: counts, hashers, never-bind users and indexes equal what Django says', async () => {
    const r = await cli(['doctor', '--config', config, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assertDoctorMatchesDjango(report, db);
    const users = report.tables.find((t) => t.setting === 'users.table');
    assert.equal(users.table, 'auth_user');
    assert.deepEqual(users.columns.find((c) => c.attribute === 'mail'), { attribute: 'mail', setting: 'users.columns.email', column: 'email', status: 'ok' });
    const weak = Object.fromEntries(report.hashers.filter((h) => h.weak).map((h) => [h.hasher, h.usernames]));
    assert.deepEqual(weak, { crypt: ['u_crypt'], md5: ['u_md5'], sha1: ['u_sha1'], unsalted_md5: ['u_unsalted_md5'], unsalted_sha1: ['u_unsalted_sha1'] });
    for (const name of ['u_md5', 'u_unsalted_md5', 'u_crypt']) assert.ok(report.warnings.some((w) => w.includes(name)), `no warning names ${name}`);
    assert.deepEqual(report.duplicates, [['frank', 'Frank']]);
    assert.ok(report.warnings.some((w) => /differ only in case.*frank \/ Frank/.test(w)));
    assert.equal(report.hashers.find((h) => h.hasher === 'pbkdf2_sha256').costs['iterations 260000'], 1, 'u_pbkdf2_default at Django 3.2 default cost');
    assertNoSecrets(db, r.stdout, r.stderr);
  });

  test('doctor (text): weak hashers and case twins are marked WARNING, eve and dora can never bind; exit 0', async () => {
    const r = await cli(['doctor', '--config', config]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = r.stdout;
    assert.match(out, /^ {2}WARNING unsalted_md5 +1 user still on unsalted MD5: u_unsalted_md5$/m);
    assert.match(out, /^ {2}WARNING md5 +1 user still on salted MD5: u_md5$/m);
    assert.match(out, /^ {2}WARNING crypt +1 user still on DES crypt .*: u_crypt$/m);
    assert.match(out, /^Users who can never bind \(2\)$/m);
    assert.match(out, /unusable password +1: eve$/m);
    assert.match(out, /inactive \(is_active false\) +1: dora$/m);
    assert.match(out, /^ {2}WARNING frank \/ Frank$/m);
    assert.match(out, new RegExp(`^ {2}users +${users().length} \\(${users().filter((u) => u.isActive).length} active, 1 inactive\\)$`, 'm'));
    assert.match(out, /^ {2}ok {6}auth_user\(username\) unique/m);
    assert.match(out, /^passed: 0 errors, 6 warnings$/m);
    assertNoSecrets(db, out, r.stderr);
  });

  test('doctor: a missing column or table is an error naming its setting (exit 1)', async () => {
    const r = await cli(['doctor', '--config', config], { env: { DJANGO_LDAP_USERS_COLUMNS_EMAIL: 'e_mail', DJANGO_LDAP_GROUPS_TABLE: 'auth_groups' } });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /ERROR {3}mail +<- e_mail MISSING +\(users\.columns\.email\)/);
    assert.match(r.stdout, /ERROR: users\.columns\.email: column "e_mail" not found in table "auth_user"/);
    assert.match(r.stdout, /ERROR: groups\.table: table "auth_groups" not found/);
    assert.match(r.stdout, /^FAILED: 2 errors/m);
    const t = await cli(['doctor', '--config', config, '--json'], { env: { DJANGO_LDAP_USERS_TABLE: 'accounts_user' } });
    assert.equal(t.status, 1);
    assert.match(JSON.parse(t.stdout).errors[0], /users\.table: table "accounts_user" not found.*look like a user model: auth_user/);
  });

  test('doctor: a missing index is a warning with the statement to add it (exit 0)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-cmd-'));
    const copy = join(dir, 'db.sqlite3');
    copyFileSync(db.name, copy);
    const w = new Database(copy);
    const idx = w.prepare("SELECT name FROM pragma_index_list('auth_user_groups')").all().map((r) => r.name);
    for (const name of idx) {
      const cols = w.prepare('SELECT name FROM pragma_index_info(?)').all(name).map((r) => r.name);
      if (cols[0] === 'group_id') w.exec(`DROP INDEX "${name}"`);
    }
    w.close();
    const r = await cli(['doctor', '--database', `sqlite://${copy}`, '--base-dn', BASE, '--json']);
    assert.equal(r.status, 0, r.stdout);
    const report = JSON.parse(r.stdout);
    const gi = report.indexes.find((i) => i.table === 'auth_user_groups' && i.columns[0] === 'group_id');
    assert.equal(gi.status, 'missing');
    assert.match(gi.hint, /^CREATE INDEX .* ON "auth_user_groups" \("group_id"\);$/);
    assert.ok(report.warnings.some((x) => x.startsWith('no index on auth_user_groups(group_id)')));
    assert.equal(report.indexes.find((i) => i.table === 'auth_user_groups' && i.columns[0] === 'user_id').status, 'ok', 'user_id leads the unique (user_id, group_id) index');
  });

  test('test-bind: every user with the right password binds exactly when Django authenticates them', async () => {
    for (const u of users()) {
      const r = await cli(['test-bind', '--config', config, '--json', u.username], { input: `${u.password}\n` });
      const out = JSON.parse(r.stdout);
      assert.equal(r.status, u.authenticates ? 0 : 1, `${u.username}: ${r.stdout}${r.stderr}`);
      assert.equal(out.bind, u.authenticates ? 'success' : 'invalidCredentials');
      assert.equal(out.hasher, u.hasher, u.username);
      assert.equal(out.dn, `uid=${u.username.replace(/[+,"\\<>;=]/g, (c) => `\\${c}`)},ou=users,${BASE}`);
      assert.deepEqual(out.groups.map((g) => g.name), u.groups, u.username);
      assert.deepEqual(out.permissions, u.permissions, u.username);
      if (u.hasher !== 'unusable') assert.equal(out.passwordCorrect, u.checkRight, u.username);
      assert.equal(typeof out.ms, 'number');
      assertNoSecrets(db, r.stdout, r.stderr);
    }
  });

  test('test-bind: right, wrong, inactive, unusable and unknown, in words and exit codes', async () => {
    const run = (name, pw, extra = []) => cli(['test-bind', '--config', config, ...extra, name], { input: pw });
    const alice = await run('alice', `${user('alice').password}\nthe second line is not read\n`);
    assert.equal(alice.status, 0, alice.stderr);
    assert.match(alice.stdout, /^bind: +would SUCCEED/m);
    assert.match(alice.stdout, /^dn: +uid=alice,ou=users,dc=example,dc=com$/m);
    assert.match(alice.stdout, /^password: +right$/m);
    assert.match(alice.stdout, /^hasher: +pbkdf2_sha256 \(iterations \d+\)$/m);
    assert.match(alice.stdout, /^check took: +[\d.]+ ms$/m);
    assert.match(alice.stdout, /^ {2}secret-agents {2}\(cn=secret-agents,ou=groups,dc=example,dc=com\)$/m);

    const wrong = await run('alice', user('alice').wrongPassword);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /would FAIL \(49 invalidCredentials\): wrong password/);
    assert.match(wrong.stdout, /^password: +wrong$/m);

    const dora = await run('dora', `${user('dora').password}\r\n`);
    assert.equal(dora.status, 1);
    assert.match(dora.stdout, /the password is right, but the user is inactive/);
    assert.match(dora.stdout, /^password: +right$/m);
    assert.match(dora.stdout, /^permissions: none \(inactive users hold no permissions\)$/m);

    const eve = await run('eve', user('eve').password);
    assert.equal(eve.status, 1);
    assert.match(eve.stdout, /unusable password/);
    assert.match(eve.stdout, /^hasher: +unusable$/m);

    const ghost = await run('ghost', 'whatever\n');
    assert.equal(ghost.status, 1);
    assert.match(ghost.stdout, /would FAIL \(49 invalidCredentials\): no such user/);
    assert.match(ghost.stdout, /^user: +not found$/m);

    const empty = await run('alice', '\n');
    assert.equal(empty.status, 1);
    assert.match(empty.stdout, /unauthenticated bind/);

    const byDn = await run(`uid=alice,ou=users,${BASE}`, user('alice').password);
    assert.equal(byDn.status, 0, 'a DN names the user too');
    const svc = await run(SERVICE_DN, `${SERVICE_PW}\n`);
    assert.equal(svc.status, 0, svc.stdout + svc.stderr);
    assert.match(svc.stdout, /would SUCCEED.*service account's hash/);
    assert.match(svc.stdout, /^hasher: +pbkdf2_sha256 \(iterations 1000\)$/m);
    const svcWrong = await run(SERVICE_DN, 'not-the-service-password\n');
    assert.equal(svcWrong.status, 1);
    assert.ok(!(svc.stdout + svcWrong.stdout).includes(SERVICE_PW));

    const twins = await run('FRANK', user('frank').password, []);
    assert.equal(twins.status, 1, 'usernames match exactly, as in Django');
    const ci = await cli(['test-bind', '--config', config, 'ALICE'], { input: user('alice').password, env: { DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'true' } });
    assert.equal(ci.status, 0, 'users.caseInsensitive: ALICE binds as alice');
    const ciTwins = await cli(['test-bind', '--config', config, 'FRANK'], { input: user('frank').password, env: { DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'true' } });
    assert.equal(ciTwins.status, 1);
    assert.match(ciTwins.stdout, /frank, Frank match ignoring case and none exactly/);

    const arg = await cli(['test-bind', '--config', config, 'alice', user('alice').password]);
    assert.notEqual(arg.status, 0, 'a password is never taken from an argument');
    assert.match(arg.stderr, /too many arguments/);
    assertNoSecrets(db, ...[alice, wrong, dora, eve, ghost, empty, ci].flatMap((r) => [r.stdout, r.stderr]));
  });

  test('test-bind on a terminal: a prompt without echo, never the password on screen', async () => {
    // Python's pty module gives the CLI a real terminal; the "typed" password comes in after the prompt.
    const dir = mkdtempSync(join(tmpdir(), 'dlb-pty-'));
    const script = join(dir, 'run_on_terminal.py');
    writeFileSync(script, [
      'import os, pty, sys, time, select',
      "password = os.environ.pop('DLB_PTY_INPUT')",
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      "out, sent, deadline = b'', False, time.time() + 30",
      'while time.time() < deadline:',
      '    r, _, _ = select.select([fd], [], [], 0.1)',
      '    if r:',
      '        try:',
      '            data = os.read(fd, 4096)',
      '        except OSError:',
      '            break',
      '        if not data:',
      '            break',
      '        out += data',
      "    if not sent and b'Password for' in out:",
      '        time.sleep(0.2)',
      "        os.write(fd, password.encode() + b'\\r')",
      '        sent = True',
      '_, status = os.waitpid(pid, 0)',
      "sys.stdout.write(out.decode('utf-8', 'replace'))",
      'sys.exit(os.waitstatus_to_exitcode(status))',
    ].join('\n'));
    const run = (pw) => new Promise((resolve) => {
      const child = spawn(PYTHON, [script, process.execPath, BIN, 'test-bind', '--config', config, 'alice'], { env: { ...ENV, DLB_PTY_INPUT: pw } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout: stdout + stderr }));
    });
    const right = await run(user('alice').password);
    assert.equal(right.status, 0, right.stdout);
    assert.match(right.stdout, /^Password for uid=alice,ou=users,dc=example,dc=com: /m);
    assert.match(right.stdout, /would SUCCEED/);
    assert.ok(!right.stdout.includes(user('alice').password), 'the typed password is not echoed');
    const wrong = await run('not-her-password');
    assert.equal(wrong.status, 1, wrong.stdout);
    assert.ok(!wrong.stdout.includes('not-her-password'));
  });

  describe('search prints what ldapsearch sees from a running bridge', { skip: toolsSkip }, () => {
    let bridge;
    before(async () => {
      const cfg = loadConfig({ flags: { config }, env: {}, cwd: process.cwd() });
      bridge = await startBridge(cfg, createLogger({ level: 'silent', format: 'json' }));
    });
    after(async () => bridge?.close());

    const cases = [
      { filter: '(objectClass=*)', attrs: [] },
      { filter: '(objectClass=*)', attrs: ['*', '+'] },
      { filter: '(uid=josé.o+brien@x)', attrs: ['uid', 'cn', 'memberOf', 'djangoPermission'] },
      { filter: '(memberOf=cn=secret-agents,ou=groups,dc=example,dc=com)', attrs: ['uid', 'entryUUID'] },
      { base: `ou=groups,${BASE}`, filter: '(|(cn=*space*)(cn=Ü*)(cn=*\\5cf))', attrs: ['cn', 'member', 'memberUid', 'djangoPermission'] },
      { base: `cn=svn.commit_repo,ou=permissions,${BASE}`, scope: 'base', filter: '(objectClass=*)', attrs: ['memberUid', 'member'] },
      { base: `ou=users,${BASE}`, scope: 'one', filter: '(&(djangoIsActive=TRUE)(!(mail=*@example.com)))', attrs: ['uid', 'mail'] },
      { base: `ou=roles,${BASE}`, filter: '(cn=*)', attrs: ['1.1'] },
    ];
    for (const c of cases) {
      test(`${c.base ?? BASE} ${c.scope ?? 'sub'} ${c.filter} ${c.attrs.join(' ')}`, async () => {
        const args = ['search', '--config', config, ...(c.base ? ['--base', c.base] : []), ...(c.scope ? ['--scope', c.scope] : []), c.filter, ...c.attrs];
        const r = await cli(args);
        assert.equal(r.status, 0, r.stderr);
        const ours = parseLdif(r.stdout);
        const theirs = await ldapsearch(bridge.urls[0], { base: c.base ?? BASE, scope: c.scope ?? 'sub', filter: c.filter, attrs: c.attrs });
        assert.equal(theirs.code, 0, theirs.stderr);
        assert.ok(ours.length > 0);
        assert.deepEqual(ours, theirs.entries);
        assertNoSecrets(db, r.stdout);
      });
    }

    test('non-ASCII and space-edged values are base64 (attr:: ...); the exit code is the result code', async () => {
      const r = await cli(['search', '--config', config, '--base', `ou=groups,${BASE}`, '(|(cn=Ünïcödé)(cn=\\20leading space))', 'cn']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /^dn:: [A-Za-z0-9+/=]+$/m);
      assert.match(r.stdout, /^cn:: w5xuw69jw7Zkw6k=$/m);
      assert.match(r.stdout, /^cn:: IGxlYWRpbmcgc3BhY2U=$/m);
      const missing = await cli(['search', '--config', config, '--base', `ou=nowhere,${BASE}`, '(objectClass=*)']);
      assert.equal(missing.status, 32);
      assert.equal(missing.stdout, '');
      assert.match(missing.stderr, /# result: 32 noSuchObject/);
      const limited = await cli(['search', '--config', config, '-z', '2', '(objectClass=*)', '1.1']);
      assert.equal(limited.status, 4);
      assert.equal(parseLdif(limited.stdout).length, 2);
      const bad = await cli(['search', '--config', config, '(uid=alice']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /bad search filter/);
    });
  });

  test('init writes a config that loads and passes doctor; it never overwrites without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const out = join(dir, 'bridge.yaml');
    const r = await cli(['init', '--database', db.url, '--base-dn', 'dc=corp,dc=test', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /user model +auth_user/);
    const cfg = loadConfig({ flags: { config: out }, env: {}, cwd: dir });
    assert.equal(cfg.tree.baseDn, 'dc=corp,dc=test');
    assert.equal(cfg.django.users.table, 'auth_user');
    assert.equal(cfg.django.users.username, 'username');
    assert.equal(cfg.django.users.firstName, 'first_name');
    assert.deepEqual(cfg.django.userGroups, { table: 'auth_user_groups', userColumn: 'user_id', otherColumn: 'group_id' });
    assert.match(readFileSync(out, 'utf8'), /^# /m, 'the file is commented');
    const doctor = await cli(['doctor', '--config', out, '--json']);
    assert.equal(doctor.status, 0, doctor.stdout);
    assertDoctorMatchesDjango(JSON.parse(doctor.stdout), db);

    const before = readFileSync(out, 'utf8');
    const again = await cli(['init', '--database', db.url, '--out', out]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists; pass --force/);
    assert.equal(readFileSync(out, 'utf8'), before);
    const forced = await cli(['init', '--database', db.url, '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(out, 'utf8'), /^baseDn: dc=example,dc=com$/m);
    assert.match(readFileSync(out, 'utf8'), /placeholder/);
  });
});

describe('init on a custom user model (AUTH_USER_MODEL = accounts.User, USERNAME_FIELD email)', { skip: djangoSkip }, () => {
  let db;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite', custom: true });
  });
  after(async () => db?.drop());
  const bob = () => db.expected.users.find((u) => u.username === 'bob@example.com');

  test('init detects the table, the login field, the missing name columns and the M2M tables; the bridge serves bob@example.com', { skip: toolsSkip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const out = join(dir, 'bridge.yaml');
    const r = await cli(['init', '--database', db.url, '--base-dn', BASE, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const cfg = loadConfig({ flags: { config: out }, env: {}, cwd: dir });
    const u = cfg.django.users;
    assert.equal(u.table, db.expected.userModel.table);
    assert.equal(u.username, db.expected.userModel.usernameField);
    assert.equal(u.firstName, null);
    assert.equal(u.lastName, null);
    assert.equal(u.email, 'email');
    assert.equal(u.isSuperuser, 'is_superuser');
    assert.equal(cfg.django.userGroups.table, db.expected.userModel.groupsTable);
    assert.equal(cfg.django.userPermissions.table, db.expected.userModel.userPermissionsTable);

    const doctor = await cli(['doctor', '--config', out, '--json']);
    assert.equal(doctor.status, 0, doctor.stdout);
    assertDoctorMatchesDjango(JSON.parse(doctor.stdout), db);

    const tb = await cli(['test-bind', '--config', out, '--json', 'bob@example.com'], { input: `${bob().password}\n` });
    assert.equal(tb.status, 0, tb.stdout + tb.stderr);
    const res = JSON.parse(tb.stdout);
    assert.equal(res.hasher, 'argon2');
    assert.deepEqual(res.permissions, bob().permissions);

    const { child, start } = await serve(['--config', out, '--listen', 'ldap://127.0.0.1:0', '--log-format', 'json']);
    try {
      const url = start.listen[0];
      const found = await ldapsearch(url, { bindDn: `uid=bob@example.com,ou=users,${BASE}`, password: bob().password, base: `ou=users,${BASE}`, filter: '(uid=bob@example.com)', attrs: ['uid', 'cn', 'mail', 'memberOf'] });
      assert.equal(found.code, 0, found.stderr);
      assert.equal(found.entries.length, 1);
      assert.deepEqual(found.entries[0].attrs.uid, ['bob@example.com']);
      assert.deepEqual(found.entries[0].attrs.cn, ['bob@example.com'], 'no first/last name columns: cn is the username');
      assert.ok(found.entries[0].attrs.memberOf.includes(`cn=Smith\\2C John's team,ou=groups,${BASE}`) || found.entries[0].attrs.memberOf.includes(`cn=Smith\\, John's team,ou=groups,${BASE}`));
      const who = await ldapTool('ldapwhoami', ['-x', '-H', url, '-D', `uid=bob@example.com,ou=users,${BASE}`, '-y', '/dev/stdin'], bob().password);
      assert.equal(who.code, 0, who.stderr);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('several user-like tables: django_migrations picks the custom model, else --user-table decides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const copy = join(dir, 'db.sqlite3');
    copyFileSync(db.name, copy);
    const url = `sqlite://${copy}`;
    const w = new Database(copy);
    w.exec('CREATE TABLE legacy_member (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT, is_active BOOL, last_login TEXT)');
    w.close();
    const one = await cli(['init', '--database', url, '--out', '-']);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /^ {2}table: accounts_user$/m);
    assert.match(one.stderr, /several tables look like a user model: accounts_user \(app accounts\), legacy_member/);
    assert.match(one.stderr, /django_migrations shows app "accounts" migrated/);

    const w2 = new Database(copy);
    w2.exec('CREATE TABLE svn_account (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT, is_active BOOL, last_login TEXT)');
    w2.close();
    const out = join(dir, 'bridge.yaml');
    const two = await cli(['init', '--database', url, '--out', out]);
    assert.equal(two.status, 2);
    assert.match(two.stderr, /several tables look like a user model: accounts_user \(app accounts\), legacy_member, svn_account \(app svn\)/);
    assert.match(two.stderr, /--user-table/);
    assert.equal(existsSync(out), false, 'nothing written');
    const chosen = await cli(['init', '--database', url, '--out', out, '--user-table', 'accounts_user']);
    assert.equal(chosen.status, 0, chosen.stderr);
    assert.equal(loadConfig({ flags: { config: out }, env: {}, cwd: dir }).django.users.table, 'accounts_user');
    const legacy = await cli(['init', '--database', url, '--out', '-', '--user-table', 'legacy_member']);
    assert.equal(legacy.status, 0, legacy.stderr);
    assert.match(legacy.stdout, /^ {4}email: null$/m);
    assert.match(legacy.stdout, /^ {2}groups: false$/m, 'no legacy_member_groups table: users only');
  });
});

describe('commands against a real Django database (PostgreSQL)', { skip: pgSkip }, () => {
  let db;
  let config;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'postgres' });
    config = await configFile(db.url);
  });
  after(async () => db?.drop());

  test('doctor reads the PostgreSQL catalogue: counts, hashers and indexes (pg_index) as Django says', async () => {
    const r = await cli(['doctor', '--config', config, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assertDoctorMatchesDjango(report, db);
    assert.equal(report.database.kind, 'postgres');
    assert.equal(report.indexes[0].index, 'auth_user_username_key');
    assert.deepEqual(report.duplicates, [['frank', 'Frank']]);
    assertNoSecrets(db, r.stdout, r.stderr);
  });

  test('test-bind and search on PostgreSQL; init writes a config that passes doctor', async () => {
    const alice = db.expected.users.find((u) => u.username === 'alice');
    const ok = await cli(['test-bind', '--config', config, 'alice'], { input: alice.password });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const bad = await cli(['test-bind', '--config', config, 'alice'], { input: alice.wrongPassword });
    assert.equal(bad.status, 1);
    const s = await cli(['search', '--config', config, '(uid=alice)', 'uid', 'memberOf']);
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(parseLdif(s.stdout), [{ dn: `uid=alice,ou=users,${BASE}`, attrs: { uid: ['alice'], memberOf: [`cn=secret-agents,ou=groups,${BASE}`] } }]);

    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const out = join(dir, 'bridge.yaml');
    const init = await cli(['init', '--database', db.url, '--base-dn', BASE, '--out', out]);
    assert.equal(init.status, 0, init.stderr);
    const doctor = await cli(['doctor', '--config', out, '--json']);
    assert.equal(doctor.status, 0, doctor.stdout);
    assertDoctorMatchesDjango(JSON.parse(doctor.stdout), db);
  });

  test('init leaves a password in a postgres:// URL out of the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const out = join(dir, 'bridge.yaml');
    const withPw = db.url.replace('postgres://', 'postgres://').replace(/^postgres:\/\/([^@]+)@/, (_, u) => `postgres://${u}:s3cret-pw@`);
    const r = await cli(['init', '--database', withPw, '--base-dn', BASE, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(out, 'utf8');
    assert.ok(!text.includes('s3cret-pw'));
    assert.ok(!(r.stdout + r.stderr).includes('s3cret-pw'));
    assert.match(text, /PGPASSWORD/);
    assert.equal(loadConfig({ flags: { config: out }, env: {}, cwd: dir }).database, db.url);
  });
});

describe('commands against a real Django database (MySQL/MariaDB)', { skip: mySkip }, () => {
  let db;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'mysql' });
  });
  after(async () => db?.drop());

  test('doctor reads information_schema; init writes a config that passes doctor; test-bind answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-init-'));
    const out = join(dir, 'bridge.yaml');
    const init = await cli(['init', '--database', db.url, '--base-dn', BASE, '--out', out]);
    assert.equal(init.status, 0, init.stderr);
    const r = await cli(['doctor', '--config', out, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assertDoctorMatchesDjango(report, db);
    assert.equal(report.database.kind, 'mysql');
    const alice = db.expected.users.find((u) => u.username === 'alice');
    assert.equal((await cli(['test-bind', '--config', out, 'alice'], { input: alice.password })).status, 0);
    assert.equal((await cli(['test-bind', '--config', out, 'alice'], { input: alice.wrongPassword })).status, 1);
    assertNoSecrets(db, r.stdout, init.stdout);
  });
});
