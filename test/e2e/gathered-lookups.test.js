// Lookups gathered per event-loop turn on PostgreSQL (src/db/coalesce.ts): when more lookups
// are on their way than the pool has connections, the users asked by exact name and the
// membership tests of one turn are answered by one statement each. On a real Django database
// (populate.py's names: case twins, accents, spaces, an inactive user) every gathered answer
// must equal the answer of the statement alone, a change committed before a lookup is seen by
// it, a failure reaches every lookup of the statement, and a column that does not compare as
// plain text (citext) is never gathered.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { need } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, postgresAvailable, PG_HOST, PG_PORT } from '../helpers/django.js';
import { DEFAULT_DJANGO_MAPPING } from '../../dist/config/load.js';
import { openStore } from '../../dist/db/open.js';
import { StoreUnavailableError } from '../../dist/directory/store.js';

const pgUp = await postgresAvailable();
const dj = djangoAvailable({ engine: 'postgres' });
const skip = need('PostgreSQL on 127.0.0.1:5432', pgUp.ok, pgUp.reason) ?? need('Django (python3-django, python3-psycopg2)', dj.ok, dj.reason);

/** A store with `poolSize` connections whose statements are recorded. */
async function recordingStore(url, poolSize, django = DEFAULT_DJANGO_MAPPING) {
  const store = openStore({ database: url, django, db: { poolSize, statementTimeoutSeconds: 10, preparedStatements: true } });
  await store.verifySchema();
  const sqls = [];
  const query = store.query;
  store.query = function (sql, params) {
    sqls.push(sql);
    return query.call(this, sql, params);
  };
  return { store, sqls };
}

const gatheredStatements = (sqls) => sqls.filter((s) => s.includes('WITH ORDINALITY'));
const show = (users) => users.map((u) => ({ id: u.id, username: u.username, password: u.password, isActive: u.isActive, email: u.email }));

describe('PostgreSQL: lookups gathered per turn answer as they would alone', { skip }, () => {
  let db;
  let admin;
  let names;
  let groups;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'postgres' });
    admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: db.name });
    await admin.connect();
    names = (await admin.query('SELECT username FROM auth_user ORDER BY id')).rows.map((r) => r.username);
    groups = (await admin.query('SELECT name FROM auth_group ORDER BY id')).rows.map((r) => r.name);
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
  });

  /** Every name, its case variants and names no one has (array-literal syntax among them:
   * names travel as elements of one array): what a client may ask. */
  const asked = () => [...names, ...names.map((n) => n.toUpperCase()), 'nobody', 'FRANK', 'Frank ', 'jose', '', 'NULL', 'null', 'a"b\\c{d},e', '{alice}'];

  test('users by exact name (binds) and searches by uid, many at once: one statement per kind and turn, the same users', async () => {
    const alone = await recordingStore(db.url, 10);
    const busy = await recordingStore(db.url, 1);
    try {
      const q = asked();
      // Alone: one at a time, so no lookup ever has company.
      const expectBind = [];
      const expectSearch = [];
      const expectSearchAll = [];
      for (const n of q) {
        expectBind.push(show(await alone.store.usersByUsername(n, false)));
        expectSearch.push(show(await alone.store.findUsers({ op: 'eq', field: 'username', value: n, ci: false }, { afterId: 0, limit: 2 }, true)));
        expectSearchAll.push(show(await alone.store.findUsers({ op: 'eq', field: 'username', value: n, ci: false }, { afterId: 0, limit: 2 }, false)));
      }
      assert.equal(gatheredStatements(alone.sqls).length, 0, 'lookups one at a time are never gathered');
      // Busy: all at once on one pooled connection.
      const [bind, search, searchAll] = await Promise.all([
        Promise.all(q.map((n) => busy.store.usersByUsername(n, false))),
        Promise.all(q.map((n) => busy.store.findUsers({ op: 'eq', field: 'username', value: n, ci: false }, { afterId: 0, limit: 2 }, true))),
        Promise.all(q.map((n) => busy.store.findUsers({ op: 'eq', field: 'username', value: n, ci: false }, { afterId: 0, limit: 2 }, false))),
      ]);
      assert.deepEqual(bind.map(show), expectBind);
      assert.deepEqual(search.map(show), expectSearch);
      assert.deepEqual(searchAll.map(show), expectSearchAll);
      // Binds read hashes, searches never do.
      assert.ok(bind.flat().some((u) => u.password.startsWith('pbkdf2_sha256$')));
      assert.ok([...search, ...searchAll].flat().every((u) => u.password === ''));
      // The inactive user is found by name (the bind decides) and by an all-users search, not by an active-only one.
      assert.ok(expectBind.flat().some((u) => u.username === 'dora') && !expectSearch.flat().some((u) => u.username === 'dora') && expectSearchAll.flat().some((u) => u.username === 'dora'));
      const gathered = gatheredStatements(busy.sqls).length;
      assert.ok(gathered >= 3, `the crowd of lookups was gathered (${gathered} gathered statements)`);
      assert.ok(busy.sqls.length < (3 * q.length) / 4, `${busy.sqls.length} statements for ${3 * q.length} lookups`);
    } finally {
      await alone.store.close();
      await busy.store.close();
    }
  });

  test('membership tests, many at once: one statement per turn, the same answers (unknown groups and users included)', async () => {
    const alone = await recordingStore(db.url, 10);
    const busy = await recordingStore(db.url, 1);
    try {
      const pairs = [];
      for (const g of [...groups, 'no such group', groups[0].toUpperCase()]) for (const u of [...names, 'nobody']) pairs.push([g, u]);
      const expectActive = [];
      const expectAll = [];
      for (const [g, u] of pairs) {
        expectActive.push(await alone.store.groupMembership(g, u, true));
        expectAll.push(await alone.store.groupMembership(g, u, false));
      }
      assert.ok(expectActive.some((m) => m.member) && expectActive.some((m) => m.group && !m.member) && expectActive.some((m) => !m.group));
      assert.ok(expectAll.filter((m) => m.member).length > expectActive.filter((m) => m.member).length, 'an inactive member counts only when inactive users are shown');
      const [active, all] = await Promise.all([Promise.all(pairs.map(([g, u]) => busy.store.groupMembership(g, u, true))), Promise.all(pairs.map(([g, u]) => busy.store.groupMembership(g, u, false)))]);
      assert.deepEqual(active, expectActive);
      assert.deepEqual(all, expectAll);
      assert.ok(gatheredStatements(busy.sqls).length >= 2);
      assert.ok(busy.sqls.length < pairs.length / 2, `${busy.sqls.length} statements for ${2 * pairs.length} tests`);
    } finally {
      await alone.store.close();
      await busy.store.close();
    }
  });

  test('a password change and a deactivation committed before a gathered lookup are seen by it', async () => {
    const busy = await recordingStore(db.url, 1);
    try {
      const before = await Promise.all(names.map((n) => busy.store.usersByUsername(n, false)));
      const alice = before.flat().find((u) => u.username === 'alice');
      assert.ok(alice.isActive);
      await admin.query("UPDATE auth_user SET password = 'pbkdf2_sha256$1$changed$x', is_active = false WHERE username = 'alice'");
      try {
        const [after, search] = await Promise.all([Promise.all(names.map((n) => busy.store.usersByUsername(n, false))), Promise.all(names.map((n) => busy.store.findUsers({ op: 'eq', field: 'username', value: n, ci: false }, { afterId: 0, limit: 1 }, true)))]);
        const now = after.flat().find((u) => u.username === 'alice');
        assert.equal(now.password, 'pbkdf2_sha256$1$changed$x');
        assert.equal(now.isActive, false);
        assert.ok(!search.flat().some((u) => u.username === 'alice'), 'an active-only search no longer finds her');
        assert.ok(gatheredStatements(busy.sqls).length >= 2);
      } finally {
        await admin.query('UPDATE auth_user SET password = $1, is_active = true WHERE id = $2', [alice.password, alice.id]);
      }
    } finally {
      await busy.store.close();
    }
  });

  test('a gathered statement that fails fails every lookup in it, as unavailable; the next ones answer', async () => {
    const busy = await recordingStore(db.url, 1);
    try {
      const query = busy.store.query;
      let failed = 0;
      busy.store.query = function (sql, params) {
        if (sql.includes('WITH ORDINALITY') && failed++ === 0) return query.call(this, 'SELECT pg_terminate_backend(pg_backend_pid())', []);
        return query.call(this, sql, params);
      };
      const results = await Promise.allSettled(names.map((n) => busy.store.usersByUsername(n, false)));
      const rejected = results.filter((r) => r.status === 'rejected');
      assert.ok(rejected.length >= 2, `the gathered lookups failed together (${rejected.length})`);
      for (const r of rejected) assert.ok(r.reason instanceof StoreUnavailableError, r.reason.message);
      const again = await Promise.all(names.map((n) => busy.store.usersByUsername(n, false)));
      assert.deepEqual(again.map((us) => us.map((u) => u.username)), names.map((n) => [n]));
    } finally {
      await busy.store.close();
    }
  });

  test('a citext user name column is never gathered (its = ignores case; a text array would not)', async () => {
    await admin.query('CREATE EXTENSION IF NOT EXISTS citext');
    await admin.query("CREATE TABLE ci_user (LIKE auth_user INCLUDING ALL)");
    await admin.query('ALTER TABLE ci_user ALTER COLUMN username TYPE citext');
    await admin.query("INSERT INTO ci_user SELECT * FROM auth_user WHERE username <> 'Frank'");
    try {
      const mapping = { ...DEFAULT_DJANGO_MAPPING, users: { ...DEFAULT_DJANGO_MAPPING.users, table: 'ci_user' } };
      const { store, sqls } = await recordingStore(db.url, 1, mapping);
      try {
        const found = await Promise.all(['ALICE', 'alice', 'Alice', 'FRANK'].map((n) => store.usersByUsername(n, false)));
        assert.deepEqual(found.map((us) => us.map((u) => u.username)), [['alice'], ['alice'], ['alice'], ['frank']]);
        assert.equal(gatheredStatements(sqls).length, 0);
      } finally {
        await store.close();
      }
    } finally {
      await admin.query('DROP TABLE ci_user');
    }
  });
});
