// Issue #13 §2: the Password Modify extended operation (RFC 3062), opt-in, run with the real
// `ldappasswd` against a bridge over a database made by real Django, and checked with Django's
// own check_password() and authenticate(). On PostgreSQL and MySQL/MariaDB the bridge reads as a
// role (user) that may only SELECT and writes as a second role that may UPDATE only auth_user's password and
// last_login, so every write it makes is shown to go through the write connection.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, postgresAvailable, mysqlAvailable } from '../helpers/django.js';
import { startTestBridge, ldapsearch, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';
import { recordSecrets } from '../helpers/secrets.js';
import { bindCode, ldappasswd, djangoPasswords, djangoUserRows, pgReadWriteRoles, mysqlReadWriteUsers, mysqlUpdateError, selfSignedCert, djangoCommonPasswordsPath } from '../helpers/writes.js';
import { makePassword } from '../../dist/django/hashers/index.js';
import { rawConnect, bindRequest, ber } from '../helpers/demo-bridge.js';

const ADMIN_DN = 'cn=passwords,ou=services,dc=example,dc=com';
const ADMIN_PW = 'admin-Secret!';
const NEW = ['Tr0ub4dor&3-horse', 'Second-new-pass!9', 'admin-set-Pa55word', 'zz-final-Pass-42', 'x-Half-written-77'];
recordSecrets([ADMIN_PW, ...NEW]);
const dn = (u) => `uid=${u},ou=users,${BASE}`;
const PASSWORD_MODIFY = '1.3.6.1.4.1.4203.1.11.1';
/** Django 3.2's test project hashes with 1000 iterations; the bridge is told another count, so
 * the stored hash shows which setting made it. */
const ITERATIONS = 3000;

/** A loopback port nothing listens on (bound, then released). */
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const engines = [
  ['sqlite', () => need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason)],
  ['postgres', async () => need('Django with psycopg2', djangoAvailable({ engine: 'postgres' }).ok, djangoAvailable({ engine: 'postgres' }).reason) || need('PostgreSQL', (await postgresAvailable()).ok, (await postgresAvailable()).reason)],
  ['mysql', async () => need('Django with MySQLdb', djangoAvailable({ engine: 'mysql' }).ok, djangoAvailable({ engine: 'mysql' }).reason) || need('MySQL/MariaDB', (await mysqlAvailable()).ok, (await mysqlAvailable()).reason)],
];

for (const [engine, available] of engines) {
  describe(`Password Modify (RFC 3062) on ${engine}`, async () => {
    const skip = (await available()) || need('ldappasswd (ldap-utils)', hasCommand('ldappasswd', ['-VV']), 'not on PATH');
    let db;
    let roles;
    let b;
    let urls;
    const users = {};

    before(async () => {
      if (skip) return;
      db = await makeDjangoDatabase({ engine });
      for (const u of db.expected.users) users[u.username] = u;
      if (engine === 'postgres') roles = await pgReadWriteRoles(db);
      if (engine === 'mysql') roles = await mysqlReadWriteUsers(db);
      urls = roles ? { read: roles.readUrl, write: roles.writeUrl } : { read: db.url, write: null };
      b = await startTestBridge({
        url: urls.read,
        config: {
          serviceAccounts: [
            { dn: SERVICE_DN, password: await makePassword(SERVICE_PW, { iterations: 1000 }) },
            { dn: ADMIN_DN, password: await makePassword(ADMIN_PW, { iterations: 1000 }), passwordAdministrator: true },
          ],
          security: { bruteForce: { userFailures: 5 } },
          writes: {
            database: urls.write,
            passwordModify: true,
            iterations: ITERATIONS,
            passwordRules: { commonPasswords: await djangoCommonPasswordsPath(db.env) },
          },
        },
      });
    });
    after(async () => {
      await b?.close();
      await db?.drop();
      await roles?.drop();
    });

    test('the read role cannot write; the write role may update only password and last_login', { skip }, async () => {
      if (engine === 'sqlite') return;
      assert.deepEqual(await roles.privileges(roles.read), { table: false, password: false, lastLogin: false });
      assert.deepEqual(await roles.privileges(roles.write), { table: false, password: true, lastLogin: true });
      if (engine === 'mysql') assert.match(String(await mysqlUpdateError(urls.read)), /ACCESS_DENIED/, 'the server refuses an UPDATE by the read user');
    });

    test('the root DSE lists Password Modify', { skip }, async () => {
      const r = await ldapsearch(b.url, { bindDn: null, base: '', scope: 'base', attrs: ['supportedExtension'] });
      assert.equal(r.code, 0, r.text);
      assert.ok(r.entries[0].attrs.supportedExtension.includes(PASSWORD_MODIFY));
    });

    test('a user changes their own password with ldappasswd: Django accepts the new one and refuses the old', { skip }, async () => {
      const alice = users.alice;
      // A bind first, so the credential cache holds the old password.
      assert.equal(await bindCode(b.url, dn('alice'), alice.password), 0);
      const r = await ldappasswd(b.url, { bindDn: dn('alice'), bindPassword: alice.password, oldPassword: alice.password, newPassword: NEW[0] });
      assert.equal(r.rc, 0, r.text);
      const d = await djangoPasswords(db.env, 'alice', [NEW[0], alice.password]);
      assert.deepEqual(d.check, [true, false]);
      assert.deepEqual(d.authenticate, [true, false]);
      assert.equal(d.algorithm, 'pbkdf2_sha256');
      assert.equal(d.iterations, ITERATIONS, 'made with writes.iterations');
      assert.equal(await bindCode(b.url, dn('alice'), NEW[0]), 0);
      assert.equal(await bindCode(b.url, dn('alice'), alice.password), 49, 'the old password no longer binds (not even from the cache)');
    });

    test('userIdentity may name the bound user; the old password is required and checked', { skip }, async () => {
      const a = { bindDn: dn('alice'), bindPassword: NEW[0] };
      const noOld = await ldappasswd(b.url, { ...a, newPassword: NEW[1] });
      assert.equal(noOld.rc, 53, noOld.text);
      assert.match(noOld.text, /old password is required/);
      const wrong = await ldappasswd(b.url, { ...a, oldPassword: 'not-her-password', newPassword: NEW[1], user: dn('alice') });
      assert.equal(wrong.rc, 49, wrong.text);
      const ok = await ldappasswd(b.url, { ...a, oldPassword: NEW[0], newPassword: NEW[1], user: dn('alice') });
      assert.equal(ok.rc, 0, ok.text);
      assert.deepEqual((await djangoPasswords(db.env, 'alice', [NEW[1], NEW[0]])).check, [true, false]);
    });

    test("Django's rules: each refusal is constraintViolation naming the rule, and the old password stays valid", { skip }, async () => {
      const bob = users.bob;
      const before = await djangoUserRows(db.env);
      const cases = [
        ['short', /password_too_short: This password is too short\. It must contain at least 8 characters\./],
        ['bobsmith', /password_too_similar: The password is too similar to the last name\./],
        ['Bob@Example.com', /password_too_similar: The password is too similar to the email address\./],
        ['iloveyou', /password_too_common: This password is too common\./],
        ['1234567890123', /password_entirely_numeric/],
      ];
      for (const [pw, rule] of cases) {
        const r = await ldappasswd(b.url, { bindDn: dn('bob'), bindPassword: bob.password, oldPassword: bob.password, newPassword: pw });
        assert.equal(r.rc, 19, `${pw}: ${r.text}`);
        assert.match(r.text, rule, pw);
      }
      assert.deepEqual(await djangoUserRows(db.env), before, 'nothing written');
      assert.deepEqual((await djangoPasswords(db.env, 'bob', [bob.password])).check, [true]);
      assert.equal(await bindCode(b.url, dn('bob'), bob.password), 0);
    });

    test("a user may not change someone else's password, nor an anonymous client anyone's", { skip }, async () => {
      const before = await djangoUserRows(db.env);
      const other = await ldappasswd(b.url, { bindDn: dn('bob'), bindPassword: users.bob.password, oldPassword: users.carol.password, newPassword: NEW[2], user: dn('carol') });
      assert.equal(other.rc, 50, other.text);
      const anon = await ldappasswd(b.url, { oldPassword: users.carol.password, newPassword: NEW[2], user: dn('carol') });
      assert.equal(anon.rc, 50, anon.text);
      const svc = await ldappasswd(b.url, { bindDn: SERVICE_DN, bindPassword: SERVICE_PW, newPassword: NEW[2], user: dn('carol') });
      assert.equal(svc.rc, 50, 'a service account without passwordAdministrator');
      assert.match(svc.text, /passwordAdministrator/);
      assert.deepEqual(await djangoUserRows(db.env), before);
    });

    test("a password administrator sets a user's password without the old one, and gets a generated one when none is given", { skip }, async () => {
      const set = await ldappasswd(b.url, { bindDn: ADMIN_DN, bindPassword: ADMIN_PW, newPassword: NEW[2], user: dn('carol') });
      assert.equal(set.rc, 0, set.text);
      assert.deepEqual((await djangoPasswords(db.env, 'carol', [NEW[2], users.carol.password])).authenticate, [true, false]);

      const gen = await ldappasswd(b.url, { bindDn: ADMIN_DN, bindPassword: ADMIN_PW, user: dn('carol') });
      assert.equal(gen.rc, 0, gen.text);
      const generated = /New password: (\S+)/.exec(gen.stdout)?.[1];
      assert.ok(generated && generated.length === 20, gen.stdout);
      recordSecrets([generated]);
      const d = await djangoPasswords(db.env, 'carol', [generated, NEW[2]]);
      assert.deepEqual(d.check, [true, false]);
      assert.deepEqual(d.authenticate, [true, false]);
      assert.equal(await bindCode(b.url, dn('carol'), generated), 0);
      const unknown = await ldappasswd(b.url, { bindDn: ADMIN_DN, bindPassword: ADMIN_PW, newPassword: NEW[2], user: dn('nobody-here') });
      assert.equal(unknown.rc, 32, unknown.text);
    });

    test("a change resets the user's lockout counters", { skip }, async () => {
      const frank = users.frank;
      // Four failures of five: one more would lock frank out.
      for (let i = 0; i < 4; i++) assert.equal(await bindCode(b.url, dn('frank'), `wrong-${i}`), 49);
      const r = await ldappasswd(b.url, { bindDn: ADMIN_DN, bindPassword: ADMIN_PW, newPassword: NEW[3], user: dn('frank') });
      assert.equal(r.rc, 0, r.text);
      for (let i = 0; i < 4; i++) assert.equal(await bindCode(b.url, dn('frank'), `wrong-again-${i}`), 49);
      assert.equal(await bindCode(b.url, dn('frank'), NEW[3]), 0, 'eight failures in all, but only four since the change: not locked out');
      assert.notEqual(frank.password, NEW[3]);
    });

    test('a wrong old password counts towards the lockout like a failed bind', { skip }, async () => {
      const staffer = users.staffer;
      // Five wrong old passwords on one connection (each ldappasswd binds anew, and a good bind
      // clears the count, as it does for binds).
      const { tlv, str, int } = ber;
      const request = (id, old) => tlv(0x30, Buffer.concat([int(id), tlv(0x77, Buffer.concat([str(PASSWORD_MODIFY, 0x80), tlv(0x81, tlv(0x30, Buffer.concat([str(old, 0x81), str(NEW[4], 0x82)])))]))]));
      const s = await rawConnect(Number(new URL(b.url).port));
      try {
        s.write(bindRequest(1, dn('staffer'), staffer.password));
        assert.deepEqual(await s.waitResults(1), [0]);
        for (let i = 0; i < 5; i++) s.write(request(2 + i, `not-it-${i}`));
        assert.deepEqual(await s.waitResults(6, 20_000), [0, 49, 49, 49, 49, 49]);
      } finally {
        s.end();
      }
      assert.equal(await bindCode(b.url, dn('staffer'), staffer.password), 49, 'five wrong old passwords lock the account out');
      assert.deepEqual((await djangoPasswords(db.env, 'staffer', [staffer.password])).check, [true], 'nothing written');
    });

    test('a write connection that cannot reach its database answers unavailable (52); nothing is written', { skip }, async () => {
      if (engine === 'sqlite') return; // SQLite's locked file: the last describe below
      const closed = await freePort();
      const down = await startTestBridge({ url: urls.read, config: { writes: { database: `${engine}://nobody@127.0.0.1:${closed}/nothing`, passwordModify: true, iterations: ITERATIONS } } });
      try {
        const before = await djangoUserRows(db.env);
        const r = await ldappasswd(down.url, { bindDn: dn('root'), bindPassword: users.root.password, oldPassword: users.root.password, newPassword: NEW[4] });
        assert.equal(r.rc, 52, r.text);
        assert.deepEqual(await djangoUserRows(db.env), before);
        assert.equal(await bindCode(down.url, dn('root'), users.root.password), 0, 'the old password stays valid; binds go on');
      } finally {
        await down.close();
      }
    });

    test('a write role without the grant: other (80) naming writes.database, nothing written, the bridge serves on', { skip }, async () => {
      if (engine === 'sqlite') return;
      const refused = await startTestBridge({ url: urls.read, config: { writes: { database: urls.read, passwordModify: true, iterations: ITERATIONS } } });
      try {
        const before = await djangoUserRows(db.env);
        const r = await ldappasswd(refused.url, { bindDn: dn('root'), bindPassword: users.root.password, oldPassword: users.root.password, newPassword: NEW[4] });
        assert.equal(r.rc, 80, r.text);
        assert.match(r.text, /writes\.database/);
        assert.deepEqual(await djangoUserRows(db.env), before);
        assert.ok(refused.logs.some((l) => /permission denied|command denied/.test(l)), 'the log says why');
        assert.equal(await bindCode(refused.url, dn('root'), users.root.password), 0);
      } finally {
        await refused.close();
      }
    });

    test('neither password reaches the log', { skip }, async () => {
      const text = b.logs.join('');
      for (const s of [NEW[0], NEW[1], NEW[2], users.alice.password, users.carol.password]) assert.ok(!text.includes(s), 'a password in the log');
      const line = b.logs.map((l) => JSON.parse(l)).find((l) => l.op === 'extended' && l.oid === PASSWORD_MODIFY && l.result === 0);
      assert.equal(line.target, 'alice', 'the log says whose password changed');
      assert.ok(b.logs.some((l) => /"writes":\["passwordModify"\].*writes to the Django database are on/.test(l)), 'the start says which writes are on');
    });
  });
}

describe('Password Modify: TLS, the write database down', async () => {
  const skip = need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason) || need('ldappasswd (ldap-utils)', hasCommand('ldappasswd', ['-VV']), 'not on PATH') || need('openssl', hasCommand('openssl', ['version']), 'not on PATH');
  let db;
  before(async () => {
    if (!skip) db = await makeDjangoDatabase({ engine: 'sqlite' });
  });
  after(async () => {
    await db?.drop();
  });

  test('where binds need TLS, so does a password change: refused in the clear (13), done after StartTLS', { skip }, async () => {
    const b = await startTestBridge({ url: db.url, config: { tls: selfSignedCert(), security: { requireTls: 'always' }, writes: { passwordModify: true, iterations: ITERATIONS } } });
    try {
      const bob = db.expected.users.find((u) => u.username === 'bob');
      // In the clear even the bind is refused; the operation itself says 13 too (after a bind
      // over TLS on another connection it could not be reached in the clear).
      const clear = await ldappasswd(b.url, { bindDn: dn('bob'), bindPassword: bob.password, oldPassword: bob.password, newPassword: NEW[4] });
      assert.equal(clear.rc, 13, clear.text);
      const tls = await ldappasswd(b.url, { startTls: true, bindDn: dn('bob'), bindPassword: bob.password, oldPassword: bob.password, newPassword: NEW[4] });
      assert.equal(tls.rc, 0, tls.text);
      assert.deepEqual((await djangoPasswords(db.env, 'bob', [NEW[4], bob.password])).check, [true, false]);
    } finally {
      await b.close();
    }
  });

  test('a common-passwords list that cannot be read stops the start, naming the setting', { skip }, async () => {
    await assert.rejects(
      startTestBridge({ url: db.url, config: { writes: { passwordModify: true, passwordRules: { commonPasswords: '/nonexistent/common-passwords.txt.gz' } } } }),
      /writes\.passwordRules\.commonPasswords: cannot read \/nonexistent\/common-passwords\.txt\.gz/,
    );
  });

  test('a write database that cannot be written answers unavailable (52) and nothing is half-written', { skip }, async () => {
    const b = await startTestBridge({ url: db.url, config: { writes: { passwordModify: true, iterations: ITERATIONS } } });
    // Another process holds SQLite's write lock (as a long Django transaction would): reads go
    // on, the bridge's write waits and gives up.
    const holder = spawn(process.execPath, ['-e', `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1]);
      db.prepare('BEGIN IMMEDIATE').run();
      process.stdout.write('locked\\n');
      setTimeout(() => { db.prepare('ROLLBACK').run(); process.exit(0); }, 30000);`, db.url.replace('sqlite://', '')], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const carol = db.expected.users.find((u) => u.username === 'carol');
      const before = await djangoUserRows(db.env).catch(() => undefined);
      const r = await ldappasswd(b.url, { bindDn: dn('carol'), bindPassword: carol.password, oldPassword: carol.password, newPassword: NEW[4] });
      assert.equal(r.rc, 52, r.text);
      holder.kill();
      await new Promise((resolve) => holder.once('exit', resolve));
      const after = await djangoUserRows(db.env);
      if (before) assert.deepEqual(after, before);
      assert.deepEqual((await djangoPasswords(db.env, 'carol', [carol.password, NEW[4]])).check, [true, false]);
      assert.equal(await bindCode(b.url, dn('carol'), carol.password), 0, 'the bridge serves on');
    } finally {
      holder.kill();
      await b.close();
    }
  });
});
