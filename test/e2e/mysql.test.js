// MySQL/MariaDB specifics (the end-to-end suite runs in bridge.test.js): mysql:// URLs,
// read-only sessions on every pooled connection, the statement timeout, errors while the
// server is away, and collations — usernames stay exact under a case-insensitive collation,
// what users.caseInsensitive does there, and what Django itself does on the same data.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { need } from '../helpers/require.js';
import { djangoAvailable, djangoShell, makeDjangoDatabase, mysqlAvailable, MYSQL_HOST, MYSQL_PORT } from '../helpers/django.js';
import { startTestBridge, client, BASE } from '../helpers/bridge.js';
import { parseDatabaseUrl, redactDatabaseUrl, ConfigError } from '../../dist/config/database-url.js';
import { DEFAULT_DJANGO_MAPPING } from '../../dist/config/load.js';
import { openStore } from '../../dist/db/open.js';
import { StoreUnavailableError } from '../../dist/directory/store.js';
import { Directory } from '../../dist/directory/directory.js';

const SECRET = 'Sup3r-s3cret';
const userDn = (u) => `uid=${u},ou=users,${BASE}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('mysql:// and mariadb:// URLs', () => {
  const cases = [
    ['mysql://app:pw@db.example.com:3307/mysite', { kind: 'mysql', user: 'app', password: 'pw', host: 'db.example.com', port: 3307, database: 'mysite' }],
    ['mariadb://app@127.0.0.1/mysite', { kind: 'mysql', user: 'app', host: '127.0.0.1', database: 'mysite' }],
    ['MySQL://us%40er:p%40ss%3Aw%2Frd@[::1]:3306/my%20db?ssl-mode=VERIFY_IDENTITY', { kind: 'mysql', user: 'us@er', password: 'p@ss:w/rd', host: '::1', port: 3306, database: 'my db', ssl: 'verify_identity' }],
    ['mysql://app@localhost/mysite?ssl-mode=required', { kind: 'mysql', user: 'app', host: 'localhost', database: 'mysite', ssl: 'required' }],
    ['mysql://app@localhost/mysite?socket=/run/mysqld/mysqld.sock', { kind: 'mysql', user: 'app', socket: '/run/mysqld/mysqld.sock', database: 'mysite' }],
    ['mysql://app@%2Frun%2Fmysqld%2Fmysqld.sock/mysite', { kind: 'mysql', user: 'app', socket: '/run/mysqld/mysqld.sock', database: 'mysite' }],
    ['mysql://app:p@ss@localhost/mysite', { kind: 'mysql', user: 'app', password: 'p@ss', host: 'localhost', database: 'mysite' }],
  ];
  for (const [url, want] of cases) {
    test(`parses ${url}`, () => assert.deepEqual(parseDatabaseUrl(url, '/work/site'), want));
  }

  const bad = [
    [`mysql://app:${SECRET}@localhost`, /^database: the mysql:\/\/ URL names no database/],
    [`mariadb://app:${SECRET}@localhost/`, /^database: the mariadb:\/\/ URL names no database/],
    [`mysql://app:${SECRET}@localhost:99999/mysite`, /^database: invalid port/],
    [`mysql://app:${SECRET.slice(0, 4)}/${SECRET.slice(4)}@localhost/mysite`, /^database: invalid port .*percent-encode/],
    [`mysql://app:${SECRET}@localhost/mysite?ssl-mode=PREFERRED`, /^database: ssl-mode=PREFERRED is not supported/],
    [`mysql://app:${SECRET}@localhost/mysite?ssl-mode=sometimes`, 'database: invalid ssl-mode "sometimes" (expected DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)'],
    [`mysql://app:${SECRET}@localhost/mysite?charset=latin1`, /^database: unsupported URL parameter "charset" \(supported: ssl-mode, socket\)/],
    [`mysql://app:${SECRET}@localhost/mysite?socket=run/mysqld.sock`, /^database: the "socket" URL parameter must be an absolute path/],
    [`mysql://app:${SECRET}@h1,h2/mysite`, /^database: several hosts/],
    [`mysql://app:${SECRET}#x@localhost/mysite`, /^database: unexpected "#"/],
    [`oracle://app:${SECRET}@localhost/mysite`, 'database: unsupported scheme "oracle:" (expected sqlite://, postgres:// or mysql://)'],
  ];
  for (const [url, want] of bad) {
    test(`rejects ${url.replace(SECRET, '<password>')} without echoing the password`, () => {
      let err;
      try {
        parseDatabaseUrl(url, '/work/site');
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, `a ConfigError, got ${err}`);
      if (typeof want === 'string') assert.equal(err.message, want);
      else assert.match(err.message, want);
      for (const piece of [SECRET, SECRET.slice(0, 4), SECRET.slice(4)]) assert.ok(!err.message.includes(piece), err.message);
    });
  }

  test('logs show the URL with the password masked', () => {
    assert.equal(redactDatabaseUrl(`mysql://app:${SECRET}@db:3306/mysite`), 'mysql://app:***@db:3306/mysite');
    assert.equal(redactDatabaseUrl(`mariadb://app:${SECRET}@db/mysite?ssl-mode=REQUIRED`), 'mariadb://app:***@db/mysite?ssl-mode=REQUIRED');
  });

  test('openStore picks the MySQL store; a server that is not there is "unavailable", not a schema error', async () => {
    const store = openStore({ database: 'mysql://app@127.0.0.1:1/mysite', django: DEFAULT_DJANGO_MAPPING });
    try {
      assert.equal(store.kind, 'mysql');
      await assert.rejects(store.verifySchema(), StoreUnavailableError);
      await assert.rejects(store.usersByUsername('alice', false), StoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});

const my = await mysqlAvailable();
const dj = djangoAvailable({ engine: 'mysql' });
const skip = need('MySQL/MariaDB on 127.0.0.1:3306 (root, no password)', my.ok, my.reason) ?? need('Django for MySQL (python3-django, python3-mysqldb)', dj.ok, dj.reason);

async function admin(sql, params) {
  const conn = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', connectTimeout: 5000 });
  try {
    return (await conn.query(sql, params))[0];
  } finally {
    await conn.end().catch(() => {});
  }
}

/** A store over db, whose SQL texts are recorded in `sqls`. */
function recordingStore(url, opts = {}) {
  const store = openStore({ database: url, django: DEFAULT_DJANGO_MAPPING, db: { poolSize: 4, statementTimeoutSeconds: 1, ...opts } });
  const sqls = [];
  const query = store.query;
  store.query = function (sql, params) {
    sqls.push({ sql, params });
    return query.call(this, sql, params);
  };
  return { store, sqls };
}

describe('MySQL/MariaDB with the server default collation (case-insensitive, as a real site)', { skip }, () => {
  let db;
  let store;
  let sqls;
  let expected;
  const byName = (n) => expected.users.find((u) => u.username === n);
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'mysql' });
    expected = db.expected;
    ({ store, sqls } = recordingStore(db.url));
    await store.verifySchema();
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('the collation is case-insensitive: Django cannot hold case twins there', async () => {
    assert.match(expected.usernameCollation, /_ci$/, `username collation ${expected.usernameCollation}`);
    assert.deepEqual(expected.skippedUsers, ['Frank'], 'populate.py could not create Frank next to frank');
    const out = await djangoShell(db.env, `
from django.db import IntegrityError
try:
    with transaction.atomic():
        User.objects.create(username='ALICE')
    print('created')
except IntegrityError as e:
    print('IntegrityError', e.args[0])
`);
    assert.equal(out.trim(), 'IntegrityError 1062', 'duplicate key: alice and ALICE are one key');
  });

  test('booleans are tinyint and read as booleans', async () => {
    const cols = await admin('SELECT column_name AS c, column_type AS t FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name IN (?, ?, ?) ORDER BY column_name', [db.name, 'auth_user', 'is_active', 'is_staff', 'is_superuser']);
    assert.deepEqual(cols.map((r) => r.t), ['tinyint(1)', 'tinyint(1)', 'tinyint(1)']);
    const [dora] = await store.usersByUsername('dora', false);
    assert.equal(dora.isActive, false);
    const [root] = await store.usersByUsername('root', false);
    assert.deepEqual([root.isActive, root.isStaff, root.isSuperuser], [true, true, true]);
    assert.equal(root.dateJoined.toISOString(), new Date(byName('root').dateJoined).toISOString(), 'DATETIME read as UTC');
  });

  test('every pooled connection is read-only: writes through the store are refused', async () => {
    // Four statements at once take the pool's four connections (distinct connection ids).
    const ids = await Promise.all([0, 1, 2, 3].map(() => store.query('SELECT CONNECTION_ID() AS id, SLEEP(0.2) AS s', [])));
    assert.equal(new Set(ids.map((r) => r[0].id)).size, 4, 'four connections');
    const writes = [
      "INSERT INTO `auth_group` (`name`) VALUES ('mallory')",
      "UPDATE `auth_user` SET `is_superuser` = 1 WHERE `username` = 'alice'",
      "DELETE FROM `auth_user_groups`",
      "INSERT INTO `auth_group` (`name`) VALUES ('mallory2')",
    ];
    const results = await Promise.allSettled(writes.map((w) => store.query(w, [])));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'rejected', writes[i]);
      assert.equal(r.reason.errno, 1792, `${writes[i]}: ${r.reason.message}`); // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
      assert.ok(!(r.reason instanceof StoreUnavailableError), 'a refused write is not "unavailable"');
    }
    const out = await djangoShell(db.env, "print(Group.objects.filter(name__startswith='mallory').count(), User.objects.get(username='alice').is_superuser, User.groups.through.objects.count() > 0)");
    assert.equal(out.trim(), '0 False True');
  });

  test('a statement past the timeout (or waiting on a table lock) fails as unavailable, and the pool goes on', async () => {
    let t = Date.now();
    await assert.rejects(store.query('SELECT SLEEP(5) AS s', []), StoreUnavailableError);
    assert.ok(Date.now() - t < 3000, `stopped after ${Date.now() - t} ms`);
    // A table lock held by another session (as LOCK TABLES or a migration's ALTER would).
    const locker = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', database: db.name });
    try {
      await locker.query('LOCK TABLES `auth_user` WRITE');
      t = Date.now();
      await assert.rejects(store.usersByUsername('alice', false), StoreUnavailableError);
      assert.ok(Date.now() - t < 3000, `stopped after ${Date.now() - t} ms`);
      await locker.query('UNLOCK TABLES');
    } finally {
      await locker.end();
    }
    assert.equal((await store.usersByUsername('alice', false)).length, 1);
  });

  test('a connection killed by the server fails as unavailable; the next query gets a fresh read-only one', async () => {
    // Its own store with a statement timeout far past the query's sleep, so that only the KILL
    // can end it, and the query is looked for until it shows (a loaded machine starts it late).
    const own = openStore({ database: db.url, django: DEFAULT_DJANGO_MAPPING, db: { poolSize: 2, statementTimeoutSeconds: 60 } });
    try {
      const running = own.query('SELECT CONNECTION_ID() AS id, SLEEP(30) AS s', []).then(() => undefined, (e) => e);
      let victims = [];
      for (const end = Date.now() + 15_000; !victims.length && Date.now() < end; await sleep(50)) {
        victims = await admin("SELECT id FROM information_schema.processlist WHERE db = ? AND info LIKE 'SELECT CONNECTION_ID() AS id, SLEEP(30)%'", [db.name]);
      }
      assert.equal(victims.length, 1);
      await admin(`KILL CONNECTION ${Number(victims[0].id)}`);
      const err = await running;
      assert.ok(err instanceof StoreUnavailableError, `got ${err}`);
      for (let i = 0; i < 5; i++) assert.equal((await own.usersByUsername('alice', false)).length, 1);
      await assert.rejects(own.query("INSERT INTO `auth_group` (`name`) VALUES ('mallory')", []), (e) => e.errno === 1792);
    } finally {
      await own.close();
    }
  });

  test('a SELECT-only account works, and "too many connections" is unavailable', async () => {
    const user = `dlb_ro_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${SECRET}' WITH MAX_USER_CONNECTIONS 1`);
    await admin(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'127.0.0.1'`);
    const url = `mysql://${user}:${SECRET}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`;
    const ro = openStore({ database: url, django: DEFAULT_DJANGO_MAPPING, db: { poolSize: 2, statementTimeoutSeconds: 1 } });
    const hog = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user, password: SECRET });
    try {
      await assert.rejects(ro.usersByUsername('alice', false), (e) => e instanceof StoreUnavailableError && !e.message.includes(SECRET));
      await hog.end();
      // COM_QUIT is sent, but the server frees the user's one connection slot a moment later:
      // wait until it no longer lists the connection, or the next connect is refused again.
      for (const end = Date.now() + 15_000; Date.now() < end; await sleep(25)) {
        if (!(await admin('SELECT id FROM information_schema.processlist WHERE user = ?', [user])).length) break;
      }
      await ro.verifySchema();
      assert.equal((await ro.usersByUsername('alice', false)).length, 1);
    } finally {
      await hog.end().catch(() => {});
      await ro.close();
      await admin(`DROP USER '${user}'@'127.0.0.1'`);
    }
  });

  test('access denied and an unknown database are final (not retried as "unavailable"); the Unix socket works', async () => {
    for (const [url, want] of [
      [`mysql://nobody:${SECRET}@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}`, /Access denied/],
      [`mysql://root@${MYSQL_HOST}:${MYSQL_PORT}/${db.name}_nope`, /Unknown database/],
    ]) {
      const s = openStore({ database: url, django: DEFAULT_DJANGO_MAPPING });
      try {
        await assert.rejects(s.verifySchema(), (e) => !(e instanceof StoreUnavailableError) && want.test(e.message) && !e.message.includes(SECRET));
      } finally {
        await s.close();
      }
    }
    const socket = (await admin('SELECT @@socket AS s'))[0].s;
    const s = openStore({ database: `mysql://root@localhost/${db.name}?socket=${socket}`, django: DEFAULT_DJANGO_MAPPING });
    try {
      await s.verifySchema();
      assert.equal((await s.usersByUsername('alice', false)).length, 1);
    } finally {
      await s.close();
    }
  });

  test('usernames match exactly under the case-insensitive collation (case, accents, trailing spaces)', async () => {
    const names = async (n, ci = false) => (await store.usersByUsername(n, ci)).map((u) => u.username);
    assert.deepEqual(await names('alice'), ['alice']);
    for (const n of ['ALICE', 'Alice', 'alicé', 'alice ', 'ALICE ', 'alic']) assert.deepEqual(await names(n), [], JSON.stringify(n));
    assert.deepEqual(await names('josé.o+brien@x'), ['josé.o+brien@x']);
    assert.deepEqual(await names('jose.o+brien@x'), []);
    // The exact-name fast paths (Apache's group and permission checks).
    assert.deepEqual(await store.groupMembership('secret-agents', 'alice', true), { group: true, member: true });
    assert.deepEqual(await store.groupMembership('secret-agents', 'ALICE', true), { group: true, member: false });
    assert.deepEqual(await store.groupMembership('secret-agents', 'alice ', true), { group: true, member: false });
    assert.deepEqual(await store.groupMembership('SECRET-AGENTS', 'alice', true), { group: false, member: false });
    assert.deepEqual(await store.groupMembership('trailing space', 'staffer', true), { group: false, member: false });
    assert.deepEqual(await store.groupMembership('trailing space ', 'staffer', true), { group: true, member: true });
    const perms = await store.allPermissions();
    const commit = perms.find((p) => p.appLabel === 'svn' && p.codename === 'commit_repo');
    assert.equal(await store.usernameHasPermission('root', commit.id), true);
    assert.equal(await store.usernameHasPermission('ROOT', commit.id), false);
    assert.equal(await store.usernameHasPermission('carol', commit.id), true);
    assert.equal(await store.usernameHasPermission('Carol', commit.id), false);
    // Groups: exact, then case-insensitive (lower() = lower(), compared exactly).
    assert.deepEqual((await store.groupsByName('Secret-Agents', false)).map((g) => g.name), []);
    assert.deepEqual((await store.groupsByName('Secret-Agents', true)).map((g) => g.name), ['secret-agents']);
    assert.deepEqual((await store.groupsByName('ünïcödé', true)).map((g) => g.name), ['Ünïcödé']);
    assert.deepEqual((await store.groupsByName('unicode', true)).map((g) => g.name), [], 'accents count');
    // Predicates: exact equality, exact LIKE, "present" that sees whitespace-only values.
    const find = async (pred) => (await store.findUsers(pred, { afterId: 0, limit: 100 }, false)).map((u) => u.username).sort();
    assert.deepEqual(await find({ op: 'eq', field: 'username', value: 'ALICE', ci: false }), []);
    assert.deepEqual(await find({ op: 'eq', field: 'username', value: 'ALICE', ci: true }), ['alice']);
    assert.deepEqual(await find({ op: 'not', item: { op: 'eq', field: 'username', value: 'ALICE', ci: false } }), expected.users.map((u) => u.username).sort());
    assert.deepEqual(await find({ op: 'like', field: 'username', initial: 'U_', any: [], ci: false }), []);
    assert.deepEqual(await find({ op: 'like', field: 'username', initial: 'U_', any: [], ci: true }), expected.users.filter((u) => u.username.startsWith('u_')).map((u) => u.username).sort());
    assert.deepEqual(await find({ op: 'like', field: 'username', any: ['jose'], ci: true }), [], 'LIKE does not fold accents');
    assert.deepEqual(await find({ op: 'eq', field: 'id', value: 999999999999999, ci: false }), []);
    const groups = async (pred) => (await store.findGroups(pred, { afterId: 0, limit: 100 })).map((g) => g.name).sort();
    assert.ok((await groups({ op: 'present', field: 'name' })).includes(' leading space'));
    assert.deepEqual(await groups({ op: 'eq', field: 'name', value: 'trailing space', ci: false }), []);
    assert.deepEqual(await groups({ op: 'eq', field: 'name', value: 'trailing space', ci: true }), []);
  });

  test('catalogue questions (doctor, init) read information_schema', async () => {
    if (typeof store.listTables !== 'function') return; // no inspector in this build
    assert.ok((await store.listTables()).includes('auth_user'));
    const cols = await store.tableColumns('auth_user');
    assert.deepEqual(cols.filter((c) => c.primaryKey).map((c) => c.name), ['id']);
    assert.ok(cols.some((c) => c.name === 'username'));
    assert.equal(await store.tableColumns('AUTH_USER'), null, 'table names as stored');
    assert.equal(await store.tableColumns('no_such_table'), null);
    const ix = await store.tableIndexes('auth_user_groups');
    assert.ok(ix.some((i) => i.unique && !i.partial && i.columns.join() === 'user_id,group_id'), JSON.stringify(ix));
  });

  test('exact username lookups still use the username index', async () => {
    sqls.length = 0;
    await store.usersByUsername('alice', false);
    const { sql, params } = sqls.find((s) => s.sql.includes('LIMIT 5'));
    assert.match(sql, /CAST\(u\.`username` AS BINARY\) = CAST\(\? AS BINARY\)/);
    assert.deepEqual(params, ['alice', 'alice']);
    const conn = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', database: db.name });
    try {
      const [rows] = await conn.execute(`EXPLAIN ${sql}`, params);
      assert.equal(rows[0].key, 'username', `EXPLAIN: ${JSON.stringify(rows)}`);
    } finally {
      await conn.end();
    }
  });

  test("users.caseInsensitive on this collation: Django's own login ignores case and accents; the bridge's only case (DNs ignore case either way)", async () => {
    const alice = byName('alice');
    // What Django does with the same data: its get(username=...) is a collation `=`.
    const django = await djangoShell(db.env, `
from django.contrib.auth import authenticate
for n in ['alice', 'ALICE', 'alicé', 'alice ']:
    u = authenticate(None, username=n, password=${JSON.stringify(alice.password)})
    print(u.username if u else '-')
`);
    assert.deepEqual(django.trim().split('\n'), ['alice', 'alice', 'alice', 'alice']);

    const exact = new Directory(store, { caseInsensitiveUsernames: false, showInactiveUsers: false });
    const ci = new Directory(store, { caseInsensitiveUsernames: true, showInactiveUsers: false });
    const login = async (d, n) => (await d.loginUser(n))?.username;
    assert.equal(await login(exact, 'alice'), 'alice');
    // A name in another case is the single user equal to it ignoring case (docs/operations.md,
    // "Usernames and case"): alice, as Django's login finds her here.
    assert.equal(await login(exact, 'ALICE'), 'alice');
    assert.equal(await login(ci, 'ALICE'), 'alice');
    assert.equal(await login(ci, 'frank'), 'frank');
    assert.equal(await login(ci, 'FRANK'), 'frank', 'no twin here, so the one case-insensitive match wins');
    for (const n of ['alicé', 'alice ']) {
      assert.equal(await login(exact, n), undefined);
      assert.equal(await login(ci, n), undefined, `${JSON.stringify(n)}: accents and trailing spaces still count`);
    }

    // Through LDAP: a bind as uid=ALICE is alice's with or without users.caseInsensitive (a DN
    // names the single user equal to it ignoring case).
    for (const [caseInsensitive, want] of [[false, true], [true, true]]) {
      const br = await startTestBridge({ url: db.url, config: { users: { caseInsensitive } } });
      const c = client(br.url);
      try {
        const ok = await c.bind(userDn('ALICE'), alice.password).then(() => true, (e) => (e.code === 49 ? false : Promise.reject(e)));
        assert.equal(ok, want, `caseInsensitive ${caseInsensitive}`);
        await assert.rejects(c.bind(userDn('alic\\c3\\a9'), alice.password), (e) => e.code === 49);
      } finally {
        await c.close();
        await br.close();
      }
    }
  });
});

describe('MySQL/MariaDB with utf8mb4_bin (case twins possible)', { skip }, () => {
  let db;
  let store;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'mysql', collation: 'utf8mb4_bin' });
    ({ store } = recordingStore(db.url));
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('frank and Frank are two accounts; exact matching picks one, case-insensitive matching an exact one or nobody', async () => {
    assert.equal(db.expected.usernameCollation, 'utf8mb4_bin');
    assert.deepEqual(db.expected.skippedUsers, []);
    const names = async (n, ci) => (await store.usersByUsername(n, ci)).map((u) => u.username);
    assert.deepEqual(await names('frank', false), ['frank']);
    assert.deepEqual(await names('Frank', false), ['Frank']);
    assert.deepEqual(await names('FRANK', false), []);
    assert.deepEqual((await names('FRANK', true)).sort(), ['Frank', 'frank']);
    const ci = new Directory(store, { caseInsensitiveUsernames: true, showInactiveUsers: false });
    assert.equal((await ci.loginUser('Frank'))?.username, 'Frank');
    assert.equal((await ci.loginUser('frank'))?.username, 'frank');
    assert.equal(await ci.loginUser('FRANK'), undefined, 'twins without an exact match match nobody');
    assert.deepEqual(await store.groupMembership('secret-agents', 'Frank', true), { group: true, member: false });
    assert.deepEqual(await store.groupMembership('secret-agents', 'frank', true), { group: true, member: true });
  });

  test('even utf8mb4_bin pads: Django finds "trailing space" for "trailing space "; the bridge does not', async () => {
    const out = await djangoShell(db.env, "print(Group.objects.filter(name='trailing space').count(), User.objects.filter(username='alice ').count())");
    assert.equal(out.trim(), '1 1', 'MySQL compares PAD SPACE');
    assert.deepEqual(await store.groupsByName('trailing space', false), []);
    assert.equal((await store.groupsByName('trailing space ', false)).length, 1);
    assert.deepEqual(await store.usersByUsername('alice ', false), []);
  });
});

describe('MySQL/MariaDB with a legacy utf8mb3 ("utf8") database', { skip }, () => {
  let db;
  let store;
  let sqls;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'mysql', collation: 'utf8mb3_general_ci' });
    ({ store, sqls } = recordingStore(db.url));
    await store.verifySchema();
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('a value with 4-byte characters matches nothing instead of failing ("Illegal mix of collations")', async () => {
    assert.equal(db.expected.usernameCollation, 'utf8mb3_general_ci');
    const emoji = 'alice\u{1f389}';
    assert.deepEqual(await store.usersByUsername(emoji, false), []);
    assert.deepEqual(await store.usersByUsername(emoji, true), []);
    assert.deepEqual(await store.groupsByName(emoji, false), []);
    assert.deepEqual(await store.groupsByName(emoji, true), []);
    assert.deepEqual(await store.groupMembership('secret-agents', emoji, true), { group: true, member: false });
    assert.deepEqual(await store.groupMembership(emoji, 'alice', true), { group: false, member: false });
    const perms = await store.allPermissions();
    assert.equal(await store.usernameHasPermission(emoji, perms[0].id), false);
    const all = db.expected.users.map((u) => u.username).sort();
    const find = async (pred) => (await store.findUsers(pred, { afterId: 0, limit: 100 }, false)).map((u) => u.username).sort();
    assert.deepEqual(await find({ op: 'eq', field: 'username', value: emoji, ci: false }), []);
    assert.deepEqual(await find({ op: 'not', item: { op: 'eq', field: 'username', value: emoji, ci: false } }), all);
    assert.deepEqual(await find({ op: 'like', field: 'username', any: ['\u{1f389}'], ci: false }), []);
    // BMP values still take the indexed path, and match exactly.
    sqls.length = 0;
    assert.deepEqual((await store.usersByUsername('josé.o+brien@x', false)).map((u) => u.username), ['josé.o+brien@x']);
    assert.deepEqual(await store.usersByUsername('JOSÉ.O+BRIEN@X', false), []);
    assert.deepEqual((await store.usersByUsername('JOSÉ.O+BRIEN@X', true)).map((u) => u.username), ['josé.o+brien@x']);
    assert.ok(sqls.every((s) => s.sql.includes('/*ix*/')));
  });
});
