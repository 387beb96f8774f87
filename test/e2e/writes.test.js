// Issue #13 §3 and the rule every write follows: last_login and hash upgrades on bind, opt-in;
// with every write setting off nothing is ever written (on PostgreSQL and MySQL/MariaDB the bridge then runs as a
// role that may only SELECT, and everything works); when on, writes go through the write role
// (the read role cannot UPDATE), and real Django accepts what was written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, postgresAvailable, mysqlAvailable } from '../helpers/django.js';
import { startTestBridge, ldapsearch, BASE } from '../helpers/bridge.js';
import { bindCode, ldappasswd, djangoPasswords, djangoUserRows, pgReadWriteRoles, mysqlReadWriteUsers, mysqlUpdateError } from '../helpers/writes.js';

const dn = (u) => `uid=${u},ou=users,${BASE}`;
/** Django 3.2's test project stores pbkdf2_sha256 at 1000 iterations; the bridge's "site
 * default" here is higher, so those hashes are weaker than it. */
const ITERATIONS = 3000;

/** Resolves with check()'s value once it is truthy (polled), or fails after `ms`. */
async function until(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const engines = [
  ['sqlite', () => need('Django (python3-django)', djangoAvailable().ok, djangoAvailable().reason)],
  ['postgres', async () => need('Django with psycopg2', djangoAvailable({ engine: 'postgres' }).ok, djangoAvailable({ engine: 'postgres' }).reason) || need('PostgreSQL', (await postgresAvailable()).ok, (await postgresAvailable()).reason)],
  ['mysql', async () => need('Django with MySQLdb', djangoAvailable({ engine: 'mysql' }).ok, djangoAvailable({ engine: 'mysql' }).reason) || need('MySQL/MariaDB', (await mysqlAvailable()).ok, (await mysqlAvailable()).reason)],
];

/** Users on every kind of stored hash: binding as each would upgrade all but the last two. */
const WEAK = ['alice', 'u_pbkdf2_sha1', 'u_md5', 'u_sha1', 'u_bcrypt', 'u_unsalted_md5'];
const STRONGER = ['u_pbkdf2_default']; // 260000 iterations: more than the bridge's 3000

for (const [engine, available] of engines) {
  describe(`opt-in writes on ${engine}`, async () => {
    const skip = (await available()) || need('ldappasswd (ldap-utils)', hasCommand('ldappasswd', ['-VV']), 'not on PATH');
    let db;
    let roles;
    const users = {};
    let read;
    let write;

    before(async () => {
      if (skip) return;
      db = await makeDjangoDatabase({ engine });
      for (const u of db.expected.users) users[u.username] = u;
      if (engine === 'postgres') roles = await pgReadWriteRoles(db);
      if (engine === 'mysql') roles = await mysqlReadWriteUsers(db);
      read = roles ? roles.readUrl : db.url;
      write = roles ? roles.writeUrl : null;
    });
    after(async () => {
      await db?.drop();
      await roles?.drop();
    });

    test('with every write off nothing is written: binds on weak hashes, searches, and ldappasswd (refused, saying the feature is off)', { skip }, async () => {
      const before = await djangoUserRows(db.env);
      // The write URL is configured, but no write setting is on.
      const b = await startTestBridge({ url: read, config: { writes: { database: write, iterations: ITERATIONS } } });
      try {
        for (const u of [...WEAK, ...STRONGER]) assert.equal(await bindCode(b.url, dn(u), users[u].password), 0, u);
        const s = await ldapsearch(b.url, { filter: '(uid=alice)', attrs: ['uid', 'memberOf'] });
        assert.equal(s.code, 0, s.stderr);
        assert.equal(s.entries.length, 1);
        const r = await ldappasswd(b.url, { bindDn: dn('bob'), bindPassword: users.bob.password, oldPassword: users.bob.password, newPassword: 'a-Fine-new-pass-1' });
        assert.equal(r.rc, 53, r.text);
        assert.match(r.text, /writes\.passwordModify/);
        const root = await ldapsearch(b.url, { bindDn: null, base: '', scope: 'base', attrs: ['supportedExtension'] });
        assert.ok(!root.entries[0].attrs.supportedExtension.includes('1.3.6.1.4.1.4203.1.11.1'), 'not advertised while off');
      } finally {
        await b.close();
      }
      assert.deepEqual(await djangoUserRows(db.env), before, 'no password and no last_login changed');
    });

    test('writes.lastLogin: a bind sets last_login as Django reads it, at most once per interval, off the hot path', { skip }, async () => {
      const b = await startTestBridge({ url: read, config: { writes: { database: write, lastLogin: true, lastLoginIntervalSeconds: 3600 } } });
      try {
        const started = Date.now();
        assert.equal((await djangoPasswords(db.env, 'carol', [])).lastLogin, null);
        assert.equal(await bindCode(b.url, dn('carol'), users.carol.password), 0);
        const first = await until(async () => (await djangoPasswords(db.env, 'carol', [])).lastLogin, 20_000, "carol's last_login written");
        const at = Date.parse(first);
        assert.ok(at >= started - 1000 && at <= Date.now() + 1000, `${first} is the time of the bind`);
        // More binds within the interval write nothing: shown by a later bind of another user
        // whose own last_login is written (in the same batch or a later one).
        for (let i = 0; i < 3; i++) assert.equal(await bindCode(b.url, dn('carol'), users.carol.password), 0);
        assert.equal(await bindCode(b.url, dn('staffer'), users.staffer.password), 0);
        await until(async () => (await djangoPasswords(db.env, 'staffer', [])).lastLogin, 20_000, "staffer's last_login written");
        assert.equal((await djangoPasswords(db.env, 'carol', [])).lastLogin, first, 'carol written once');
        // A failed bind writes nothing.
        assert.equal(await bindCode(b.url, dn('root'), 'wrong'), 49);
        assert.equal(await bindCode(b.url, dn('u_crypt'), users.u_crypt.password), 0);
        await until(async () => (await djangoPasswords(db.env, 'u_crypt', [])).lastLogin, 20_000, 'the marker written');
        assert.equal((await djangoPasswords(db.env, 'root', [])).lastLogin, null);
      } finally {
        await b.close();
      }
    });

    test('a last_login write that fails never fails the bind', { skip }, async () => {
      // Writes pointed at a connection that cannot write: the read role on PostgreSQL and MySQL
      // (no UPDATE grant); on SQLite, a file opened read-only by the OS (chmod'd copy is not the same db,
      // so there: a mapped last_login column the write statement cannot find).
      const config = engine !== 'sqlite'
        ? { writes: { database: read, lastLogin: true } }
        : { writes: { lastLogin: true } };
      const b = await startTestBridge({ url: read, config });
      try {
        if (engine === 'sqlite') {
          const { sqliteWrites } = await import('../helpers/writes.js');
          await sqliteWrites(db.url.replace('sqlite://', ''), ['CREATE TRIGGER no_last_login BEFORE UPDATE OF last_login ON auth_user BEGIN SELECT RAISE(ABORT, \'last_login is not writable here\'); END']);
        }
        const before = (await djangoPasswords(db.env, 'frank', [])).lastLogin;
        assert.equal(await bindCode(b.url, dn('frank'), users.frank.password), 0);
        await until(() => b.logs.some((l) => l.includes('cannot write last_login')), 20_000, 'the failure logged');
        // (Frank, frank's case twin, cannot exist under MySQL's case-insensitive collation.)
        const next = users.Frank ? 'Frank' : 'bob';
        assert.equal(await bindCode(b.url, dn(next), users[next].password), 0, 'binds go on');
        assert.equal((await djangoPasswords(db.env, 'frank', [])).lastLogin, before);
      } finally {
        await b.close();
        if (engine === 'sqlite') {
          const { sqliteWrites } = await import('../helpers/writes.js');
          await sqliteWrites(db.url.replace('sqlite://', ''), ['DROP TRIGGER no_last_login']);
        }
      }
    });

    test('writes.upgradeHashes: a bind re-hashes a weaker stored hash with the site default, and Django accepts it', { skip }, async () => {
      const b = await startTestBridge({ url: read, config: { writes: { database: write, upgradeHashes: true, iterations: ITERATIONS } } });
      const before = await djangoUserRows(db.env);
      try {
        for (const u of [...WEAK, ...STRONGER]) assert.equal(await bindCode(b.url, dn(u), users[u].password), 0, u);
        for (const u of WEAK) {
          const d = await until(async () => {
            const x = await djangoPasswords(db.env, u, [users[u].password, users[u].wrongPassword]);
            return x.algorithm === 'pbkdf2_sha256' && x.iterations === ITERATIONS && x;
          }, 30_000, `${u}'s hash upgraded`);
          assert.deepEqual(d.check, [true, false], u);
          assert.deepEqual(d.authenticate, [true, false], u);
          assert.equal(await bindCode(b.url, dn(u), users[u].password), 0, `${u} binds with the upgraded hash`);
        }
        const after = await djangoUserRows(db.env);
        for (const u of STRONGER) assert.equal(after[u][0], before[u][0], `${u}: more iterations than the default, left alone`);
        assert.equal(after.bob[0], before.bob[0], 'users who did not bind are not touched');
        assert.ok(b.logs.some((l) => l.includes('password hash upgraded')));
      } finally {
        await b.close();
      }
    });

    test('a password write is a compare-and-set: replaced only while the stored hash is, byte for byte, the one checked', { skip }, async () => {
      const { openWriter } = await import('../../dist/db/write-store.js');
      const { parseDatabaseUrl } = await import('../../dist/config/database-url.js');
      const { DEFAULT_DJANGO_MAPPING } = await import('../../dist/config/defaults.js');
      const writer = openWriter(parseDatabaseUrl(write ?? db.url, '/'), DEFAULT_DJANGO_MAPPING, 10_000);
      try {
        const [stored] = (await djangoUserRows(db.env)).bob;
        const id = users.bob.id;
        const other = stored.replace(/[a-z]/, (c) => c.toUpperCase());
        assert.notEqual(other, stored);
        const H = 'pbkdf2_sha256$1$salt$hash';
        // A hash that differs only in case is another hash (MySQL's collations would call them equal).
        assert.equal(await writer.setPassword(id, H, other), false);
        assert.equal(await writer.setPassword(id, H, 'not-the-hash'), false);
        assert.equal((await djangoUserRows(db.env)).bob[0], stored, 'nothing written');
        assert.equal(await writer.setPassword(id, H, stored), true, 'the checked hash is replaced');
        assert.equal((await djangoUserRows(db.env)).bob[0], H);
        assert.equal(await writer.setPassword(id, stored, H), true, 'and put back');
        assert.equal((await djangoUserRows(db.env)).bob[0], stored);
      } finally {
        await writer.close();
      }
    });

    if (engine !== 'sqlite') {
      test('the write role is the only one that could have written: the read role has no UPDATE grant', { skip }, async () => {
        assert.deepEqual(await roles.privileges(roles.read), { table: false, password: false, lastLogin: false });
        assert.deepEqual(await roles.privileges(roles.write), { table: false, password: true, lastLogin: true });
        if (engine === 'mysql') assert.match(String(await mysqlUpdateError(read)), /ACCESS_DENIED/, 'the server refuses an UPDATE by the read user');
      });
    }
  });
}

describe('writes settings', () => {
  test('a write on PostgreSQL or MySQL/MariaDB without writes.database is refused at start, naming the setting', async () => {
    const { loadConfig } = await import('../../dist/config/load.js');
    assert.throws(
      () => loadConfig({ flags: {}, env: { DATABASE_URL: 'postgres://app@127.0.0.1/site', DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_WRITES_LAST_LOGIN: 'true' }, cwd: '/' }),
      /writes\.database: writes\.lastLogin needs a write connection/,
    );
    assert.throws(
      () => loadConfig({ flags: {}, env: { DATABASE_URL: 'postgres://app@127.0.0.1/site', DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_WRITES_PASSWORD_MODIFY: 'true', DJANGO_LDAP_WRITES_DATABASE: 'sqlite:///x.sqlite3' }, cwd: '/' }),
      /writes\.database: a sqlite URL for a postgres database/,
    );
    // MySQL/MariaDB: required as on PostgreSQL, and accepted when given.
    assert.throws(
      () => loadConfig({ flags: {}, env: { DATABASE_URL: 'mysql://app@127.0.0.1/site', DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_WRITES_UPGRADE_HASHES: 'true' }, cwd: '/' }),
      /writes\.database: writes\.upgradeHashes needs a write connection/,
    );
    assert.throws(
      () => loadConfig({ flags: {}, env: { DATABASE_URL: 'mysql://app@127.0.0.1/site', DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_WRITES_LAST_LOGIN: 'true', DJANGO_LDAP_WRITES_DATABASE: 'postgres://writer@127.0.0.1/site' }, cwd: '/' }),
      /writes\.database: a postgres URL for a mysql database/,
    );
    const c = loadConfig({ flags: {}, env: { DATABASE_URL: 'mysql://app@127.0.0.1/site', DJANGO_LDAP_BASE_DN: BASE, DJANGO_LDAP_WRITES_UPGRADE_HASHES: 'true', DJANGO_LDAP_WRITES_DATABASE: 'mysql://writer@127.0.0.1/site' }, cwd: '/' });
    assert.equal(c.writes.database, 'mysql://writer@127.0.0.1/site');
  });
});
