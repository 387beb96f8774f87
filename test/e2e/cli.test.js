// The command line as an operator meets it: `serve` refuses a broken configuration or
// database with a message naming the setting to fix; `hash-password` makes hashes Django and
// the bridge accept; the bridge serves a database it found and says what it serves.
import { serve } from '../helpers/serve.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase } from '../helpers/django.js';
import { ldapTool, ldapsearch, BASE } from '../helpers/bridge.js';
import { verifyPassword } from '../../dist/django/hashers/index.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');
const run = (args, opts = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30000, env: { PATH: process.env.PATH, HOME: process.env.HOME }, ...opts });
const djangoSkip = need('Django 3.2 (python3-django)', djangoAvailable().ok, djangoAvailable().reason);
const toolsSkip = need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH');


test('hash-password reads stdin and prints a pbkdf2_sha256 hash that verifies', async () => {
  const r = run(['hash-password', '--iterations', '2000'], { input: 'sëcret pass\n' });
  assert.equal(r.status, 0, r.stderr);
  const hash = r.stdout.trim();
  assert.match(hash, /^pbkdf2_sha256\$2000\$[A-Za-z0-9]+\$[A-Za-z0-9+/]+=*$/);
  assert.equal((await verifyPassword('sëcret pass', hash)).ok, true);
  assert.equal((await verifyPassword('sëcret pass\n', hash)).ok, false, 'the line ending is not part of the password');
  assert.ok(!r.stdout.includes('sëcret'));
});

test('a broken configuration is refused with every problem and the setting to fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-cli-'));
  const file = join(dir, 'bridge.yaml');
  writeFileSync(file, 'baseDn: dc=example,dc=com\nusers:\n  table: 7\n  tabel: auth_user\nserviceAccounts:\n  - dn: cn=apache,dc=example,dc=com\n    password: plaintext-secret\n');
  const r = run(['serve', '--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /users\.table: must be a string/);
  assert.match(r.stderr, /users\.tabel/);
  assert.match(r.stderr, /serviceAccounts\[0\]\.password/);
  assert.match(r.stderr, /database/);
  assert.ok(!r.stderr.includes('plaintext-secret'), 'a rejected password is not echoed');
});

test('an unreachable database refuses to start and says which', () => {
  const r = run(['serve', '--database', 'postgres://nobody:hunter2@127.0.0.1:1/nodb', '--base-dn', BASE, '--listen', 'ldap://127.0.0.1:0'], { env: { PATH: process.env.PATH, DJANGO_LDAP_DB_STARTUP_RETRY_SECONDS: '0' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot use the database postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/nodb/);
  assert.ok(!r.stderr.includes('hunter2'));
  const s = run(['serve', '--database', 'sqlite:///nonexistent/dir/db.sqlite3', '--base-dn', BASE, '--listen', 'ldap://127.0.0.1:0']);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /SQLite file/);
});

describe('serve against a real Django database', { skip: djangoSkip || toolsSkip }, () => {
  let db;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'sqlite' });
  });
  after(async () => db?.drop());

  test('a mapped column that does not exist is named with its setting', async () => {
    await assert.rejects(serve(['--database', db.url, '--base-dn', BASE, '--listen', 'ldap://127.0.0.1:0'], { DJANGO_LDAP_USERS_COLUMNS_EMAIL: 'e_mail', DJANGO_LDAP_GROUPS_TABLE: 'auth_groups' }), (e) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /users\.columns\.email: column "e_mail" not found in table "auth_user"/);
      assert.match(e.stderr, /groups\.table: table "auth_groups" not found/);
      return true;
    });
  });

  test('an unreadable or broken tls.cert / tls.key is named as such, not as a listen: problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-badtls-'));
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const cases = [
      [{ cert: join(dir, 'missing.pem'), key: junk }, /^django-ldap-bridge: tls\.cert: cannot read .*missing\.pem/m],
      [{ cert: junk, key: junk }, /^django-ldap-bridge: tls\.cert, tls\.key: .*junk\.pem .* are not a PEM certificate chain and its private key/m],
    ];
    try {
      for (const [tls, want] of cases) {
        const file = join(dir, 'bridge.json');
        writeFileSync(file, JSON.stringify({ tls }));
        await assert.rejects(serve(['--config', file, '--database', db.url, '--base-dn', BASE, '--listen', 'ldaps://127.0.0.1:0']), (e) => {
          assert.equal(e.code, 1);
          assert.match(e.stderr, want);
          assert.doesNotMatch(e.stderr, /listen/);
          return true;
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('DATABASE_URL and DJANGO_LDAP_* configure it; without a groups mapping it serves users only', async () => {
    const { child, start, logs } = await serve(['--listen', 'ldap://127.0.0.1:0', '--log-format', 'json'], { DATABASE_URL: db.url, DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_USERS_GROUPS: 'false', DJANGO_LDAP_ANONYMOUS_SEARCH: 'true' });
    try {
      const url = start.listen[0];
      assert.match(logs(), /serving users only/);
      const users = await ldapsearch(url, { bindDn: null, base: `ou=users,${BASE}`, filter: '(uid=alice)', attrs: ['uid', 'memberOf'] });
      assert.equal(users.code, 0, users.stderr);
      assert.deepEqual(users.entries[0].attrs.uid, ['alice']);
      const groups = await ldapsearch(url, { bindDn: null, base: `ou=groups,${BASE}` });
      assert.equal(groups.code, 32, 'no ou=groups without a groups mapping');
      const who = await ldapTool('ldapwhoami', ['-x', '-H', url, '-D', `uid=alice,ou=users,${BASE}`, '-y', '/dev/stdin'], db.expected.users.find((u) => u.username === 'alice').password);
      assert.equal(who.code, 0);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('case-insensitive usernames: ALICE binds as alice; case twins without an exact match match nobody', async () => {
    const { child, start } = await serve(['--database', db.url, '--base-dn', BASE, '--listen', 'ldap://127.0.0.1:0'], { DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'true' });
    try {
      const url = start.listen[0];
      const pw = (n) => db.expected.users.find((u) => u.username === n).password;
      const who = async (uid, p) => (await ldapTool('ldapwhoami', ['-x', '-H', url, '-D', `uid=${uid},ou=users,${BASE}`, '-y', '/dev/stdin'], p)).code;
      assert.equal(await who('ALICE', pw('alice')), 0);
      assert.equal(await who('frank', pw('frank')), 0, 'an exact match wins');
      assert.equal(await who('Frank', pw('Frank')), 0);
      assert.equal(await who('FRANK', pw('frank')), 49, 'two case twins and no exact match: nobody');
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('SIGTERM stops it cleanly with exit code 0', async () => {
    const { child } = await serve(['--database', db.url, '--base-dn', BASE, '--listen', 'ldap://127.0.0.1:0']);
    const code = await new Promise((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
  });
});
