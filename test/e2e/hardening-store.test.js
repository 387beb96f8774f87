// Issue #14, hardening round two, the store's side: what a bound ordinary user can make the
// database do (the self-only search path, scans of client-shaped filters on SQLite), what a
// compare tells them about others, and how a vanished table is answered and logged.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { need } from '../helpers/require.js';
import { djangoAvailable, makeDjangoDatabase, mysqlAvailable, postgresAvailable, MYSQL_HOST, MYSQL_PORT, PG_HOST, PG_PORT } from '../helpers/django.js';
import { demoDatabase, startDemoBridge, userDn, password, DEMO_SERVICE, BASE } from '../helpers/demo-bridge.js';
import { client } from '../helpers/bridge.js';

const BULK_USERS = 200_000;

/** Adds `n` active users after the demo's (SQL inserts: seconds, not minutes of Django). */
function addBulkUsers(path, n) {
  const db = new Database(path);
  db.prepare(
    `INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
     WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ?)
     SELECT '!', NULL, 0, 'bulk' || x, 'Bulk', 'User', 'bulk' || x || '@example.com', 0, 1, '2020-01-01 00:00:00' FROM seq`,
  ).run(n);
  db.close();
}

/** A filter no user matches whose every term the database must evaluate on every row:
 * `terms` substring assertions on uid, OR-ed, plus the extra terms given. */
function costlyFilter(terms, extra = '') {
  let f = '(|';
  for (let i = 0; i < terms; i++) f += `(uid=*zq${i}*xj${i}*)`;
  return f + extra + ')';
}

/** Records the SQL (and its parameters) the bridge's store runs while `fn` runs. With
 * `holdMs`, every statement matching `hold` also holds the event loop that long before it
 * runs, as it would on a machine that many times slower: a scan's length then no longer
 * depends on how fast this machine happens to be. */
async function statementsDuring(store, fn, { hold, holdMs = 0 } = {}) {
  const seen = [];
  const original = store.query;
  store.query = function (sql, params) {
    seen.push({ sql, params: [...params] });
    if (holdMs && hold.test(sql)) {
      const until = performance.now() + holdMs;
      while (performance.now() < until);
    }
    return original.call(this, sql, params);
  };
  try {
    return { result: await fn(), statements: seen };
  } finally {
    store.query = original;
  }
}

/** Runs `fn` with a client bound as a demo user or as the service account, closed after. */
async function boundAs(url, who, fn) {
  const c = client(url);
  try {
    if (who === 'service') await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    else await c.bind(userDn(who), password(who));
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** A demo database with `bulkUsers` more users and a bridge over it, for one describe: its
 * `db` and bridge `b` once the describe's tests run. */
function demoSuite(bulkUsers = 0) {
  const suite = {};
  before(async () => {
    suite.db = await demoDatabase(1000);
    if (bulkUsers) addBulkUsers(suite.db.path, bulkUsers);
    suite.b = await startDemoBridge(suite.db.url);
  });
  after(async () => {
    await suite.b?.close();
  });
  return suite;
}

describe('a bound user cannot make SQLite scan the user table', () => {
  const suite = demoSuite(BULK_USERS);

  test("the self-only search reads the user's own row by id: the filter never reaches the database", async () => {
    const { b } = suite;
    await boundAs(b.url, 'alice', async (c) => {
      const filter = costlyFilter(300);
      const { result, statements } = await statementsDuring(b.bridge.store, () => c.search(`ou=users,${BASE}`, { scope: 'sub', filter, attributes: ['uid'] }));
      assert.equal(result.status, 0);
      assert.deepEqual(result.entries, []);
      const userQueries = statements.filter((s) => /FROM "auth_user"/.test(s.sql));
      assert.ok(userQueries.length > 0);
      for (const s of userQueries) {
        assert.doesNotMatch(s.sql, /GLOB|LIKE/, 'the filter is checked in memory, not by a scan');
        assert.ok(!s.params.some((p) => typeof p === 'string' && p.includes('zq')), 'no filter value is bound');
      }
    });
  });

  test('the attacking user still gets their own entry when the filter matches it', async () => {
    const { b } = suite;
    await boundAs(b.url, 'alice', async (c) => {
      const r = await c.search(`ou=users,${BASE}`, { scope: 'sub', filter: costlyFilter(300, '(uid=alice)'), attributes: ['uid'] });
      assert.equal(r.status, 0);
      assert.deepEqual(
        r.entries.map((e) => e.dn),
        [userDn('alice')],
      );
    });
  });

  test('a costly scan runs in bounded id windows, stops at its time limit, and others are answered meanwhile', async () => {
    const { b } = suite;
    const attacker = client(b.url);
    const other = client(b.url);
    try {
      await attacker.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
      const order = [];
      const { result: attack, statements } = await statementsDuring(b.bridge.store, async () => {
        const attack = attacker
          .search(`ou=users,${BASE}`, { scope: 'sub', filter: costlyFilter(500), attributes: ['uid'], timeLimit: 1 })
          .then(
            (r) => ({ status: r.status }),
            (e) => ({ status: e.code }),
          )
          .finally(() => order.push('attack'));
        // Started while the scan runs: a bind and a search of one's own entry.
        const legit = (async () => {
          await other.bind(userDn('bob'), password('bob'));
          const r = await other.search(userDn('bob'), { scope: 'base', attributes: ['uid'] });
          order.push('legit');
          return r;
        })();
        const [a, l] = await Promise.all([attack, legit]);
        assert.deepEqual(
          l.entries.map((e) => e.dn),
          [userDn('bob')],
        );
        return a;
        // Each window's statement takes at least 10 ms: the scan of 200,000 rows in windows of
        // at most a few hundred cannot end inside its 1 s limit, on however fast a machine.
      }, { hold: /GLOB/, holdMs: 10 });
      assert.equal(attack.status, 3, 'timeLimitExceeded');
      assert.deepEqual(order, ['legit', 'attack'], 'the legitimate client is answered while the scan runs');
      const scans = statements.filter((s) => /GLOB/.test(s.sql));
      assert.ok(scans.length > 1, 'the scan is cut into several statements');
      for (const s of scans) {
        assert.match(s.sql, /"id" > \+\? AND u\."id" <= \+\?/);
        const [lo, hi] = s.params.slice(-3, -1);
        assert.ok(hi - lo <= 1000, `one statement reads at most a small id window (${lo}..${hi})`);
      }
    } finally {
      await attacker.close();
      await other.close();
    }
  });
});

describe('a bound user cannot enumerate others with compare', () => {
  const suite = demoSuite();

  /** The result code of a compare: 6 true, 5 false, or the error's. */
  const code = (c, entry, attr, value) =>
    c.compare(entry, attr, value).then(
      (matched) => (matched ? 6 : 5),
      (e) => e.code,
    );

  test('compares on other users, and on anyone else\'s memberships, answer 50 whether the target exists or not', async () => {
    const { b } = suite;
    await boundAs(b.url, 'alice', async (c) => {
      for (const u of ['bob', 'carol', 'dave', 'nobody']) {
        assert.equal(await code(c, userDn(u), 'objectClass', 'inetOrgPerson'), 50, `objectClass of ${u}`);
        assert.equal(await code(c, userDn(u), 'uid', u), 50, `uid of ${u}`);
      }
      for (const group of [`cn=superusers,ou=roles,${BASE}`, `cn=committers,ou=groups,${BASE}`, `cn=no-such-group,ou=groups,${BASE}`]) {
        assert.equal(await code(c, group, 'member', userDn('carol')), 50, `${group} member`);
        assert.equal(await code(c, group, 'memberUid', 'carol'), 50, `${group} memberUid`);
        assert.equal(await code(c, group, 'uniqueMember', userDn('carol')), 50, `${group} uniqueMember`);
      }
    });
  });

  test('a user compares their own entry and their own memberships (AuthLDAPCompareAsUser)', async () => {
    const { b } = suite;
    await boundAs(b.url, 'alice', async (c) => {
      assert.equal(await code(c, userDn('alice'), 'objectClass', 'inetOrgPerson'), 6);
      assert.equal(await code(c, `cn=secret-agents,ou=groups,${BASE}`, 'member', userDn('alice')), 6);
      assert.equal(await code(c, `cn=committers,ou=groups,${BASE}`, 'member', userDn('alice')), 5);
      assert.equal(await code(c, `cn=superusers,ou=roles,${BASE}`, 'memberUid', 'alice'), 5);
    });
  });

  test('a service account still compares anything', async () => {
    const { b } = suite;
    await boundAs(b.url, 'service', async (c) => {
      assert.equal(await code(c, userDn('bob'), 'objectClass', 'inetOrgPerson'), 6);
      assert.equal(await code(c, userDn('nobody'), 'objectClass', 'inetOrgPerson'), 32);
      assert.equal(await code(c, `cn=superusers,ou=roles,${BASE}`, 'memberUid', 'carol'), 6);
    });
  });
});

// ---- a vanished table: unavailable (52), logged once per outage ----

/** Error lines (pino level 50 and up) the bridge has logged so far. */
const errorLines = (logs) => logs.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);

/** Result codes of `rounds` rounds of a search, a compare and a user bind, each on its own
 * connection's client (a failed bind leaves the service connection bound). */
async function operationCodes(url, rounds) {
  const svc = client(url);
  const user = client(url);
  const codes = [];
  const codeOf = (p) =>
    p.then(
      () => 0,
      (e) => e.code,
    );
  try {
    await svc.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    for (let i = 0; i < rounds; i++) {
      codes.push(await codeOf(svc.search(`ou=users,${BASE}`, { scope: 'sub', filter: '(uid=alice)', attributes: ['uid'] })));
      codes.push(await codeOf(svc.compare(`cn=secret-agents,ou=groups,${BASE}`, 'member', userDn('alice'))));
      codes.push(await codeOf(user.bind(userDn('ghost'), 'not-a-password')));
    }
  } finally {
    await svc.close();
    await user.close();
  }
  return codes;
}

/** The user table renamed away while the bridge runs, and back: 52 for every operation and one
 * error line, answers again, and a new outage logged anew. */
async function renameOutage(b, renameAway, renameBack) {
  const errorsBefore = errorLines(b.logs).length;
  await renameAway();
  const during = await operationCodes(b.url, 10);
  assert.deepEqual([...new Set(during)], [52], 'every operation answers unavailable');
  const outage = errorLines(b.logs).slice(errorsBefore);
  assert.equal(outage.length, 1, `one error line for ${during.length} operations: ${JSON.stringify(outage)}`);
  assert.match(String(outage[0].err), /auth_user/, 'the line says what is missing');
  assert.ok(!outage[0].stack && !String(outage[0].err).includes('    at '), 'no stack');

  await renameBack();
  await boundAs(b.url, 'service', async (svc) => {
    const r = await svc.search(`ou=users,${BASE}`, { scope: 'sub', filter: '(uid=alice)', attributes: ['uid'] });
    assert.deepEqual(r.entries.map((e) => e.dn), [userDn('alice')]);
  });
  assert.ok(b.logs.some((l) => JSON.parse(l).msg === 'the database answers again'));

  await renameAway();
  assert.deepEqual([...new Set(await operationCodes(b.url, 2))], [52]);
  assert.equal(errorLines(b.logs).length - errorsBefore, 2, 'a new outage is logged anew');
  await renameBack();
}

describe('a renamed auth_user answers unavailable, logged once (SQLite)', () => {
  const suite = demoSuite();

  test('rename auth_user away and back while the bridge runs', async () => {
    const { b, db } = suite;
    const sql = async (statement) => {
      // The writer runs in the bridge's own process and waits synchronously: let the bridge
      // end its event-loop turn's read transaction first (Django, another process, waits for it).
      await new Promise((resolve) => setImmediate(resolve));
      const w = new Database(db.path);
      w.pragma('busy_timeout = 5000');
      try {
        w.exec(statement);
      } finally {
        w.close();
      }
    };
    await renameOutage(
      b,
      () => sql('ALTER TABLE auth_user RENAME TO auth_user_gone'),
      () => sql('ALTER TABLE auth_user_gone RENAME TO auth_user'),
    );
  });
});

for (const engine of ['postgres', 'mysql']) {
  const django = djangoAvailable({ engine });
  const server = engine === 'postgres' ? await postgresAvailable() : await mysqlAvailable();
  const skip = need(`Django with ${engine}`, django.ok, django.reason) || need(engine, server.ok, server.reason);
  describe(`a renamed auth_user answers unavailable, logged once (${engine})`, { skip }, () => {
    let db;
    let b;
    let admin;
    before(async () => {
      db = await makeDjangoDatabase({ engine });
      b = await startDemoBridge(db.url);
      if (engine === 'postgres') {
        admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: server.user, database: db.name });
        await admin.connect();
      } else {
        admin = await mysql.createConnection({ host: MYSQL_HOST, port: MYSQL_PORT, user: 'root', database: db.name });
      }
    });
    after(async () => {
      await admin?.end().catch(() => {});
      await b?.close();
      await db?.drop();
    });

    test('rename auth_user away and back while the bridge runs', async () => {
      const sql = (statement) => admin.query(statement);
      const away = engine === 'postgres' ? 'ALTER TABLE auth_user RENAME TO auth_user_gone' : 'RENAME TABLE auth_user TO auth_user_gone';
      const back = engine === 'postgres' ? 'ALTER TABLE auth_user_gone RENAME TO auth_user' : 'RENAME TABLE auth_user_gone TO auth_user';
      await renameOutage(b, () => sql(away), () => sql(back));
    });
  });
}

// A search whose filter names a member, `(member=<a user's DN>)` or `(memberUid=<name>)`, over the
// permissions and roles reads that user's permissions and roles once; it used to read every
// permission's holders (a query over the whole user table each: superusers hold them all and
// is_superuser has no index). The answers must be those of reading every holder, which the
// approximate form of the same filter still does (this bridge matches `~=` as equality).
for (const engine of ['sqlite', 'postgres']) {
  const django = djangoAvailable({ engine });
  const server = engine === 'postgres' ? await postgresAvailable() : { ok: true };
  const skip = need(`Django with ${engine}`, django.ok, django.reason) || need(engine, server.ok, server.reason);
  describe(`a filter naming a member reads that user's permissions, not every holder (${engine}, real Django data)`, { skip }, () => {
    let db;
    let b;
    let c;
    before(async () => {
      db = await makeDjangoDatabase({ engine });
      b = await startDemoBridge(db.url);
      c = client(b.url);
      await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    });
    after(async () => {
      await c?.close();
      await b?.close();
      await db?.drop();
    });

    /** A user's DN as a filter's assertion value (DN escapes, then filter escapes). */
    const dnIn = (name) => `uid=${name.replace(/[,+"\\<>;=]/g, '\\$&')},ou=users,${BASE}`.replace(/[\\*()]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
    const approx = (filter) => filter.replace(/\((member|memberUid)=/g, '($1~=');
    /** The entries a search returns, sorted by DN, each attribute's values as served. */
    const answer = async (base, filter, attributes) => {
      const r = await c.search(base, { scope: 'sub', filter, attributes });
      assert.equal(r.status, 0, `${filter} from ${base}`);
      return r.entries.sort((x, y) => (x.dn < y.dn ? -1 : x.dn > y.dn ? 1 : 0));
    };
    /** Statements that read holders: the superuser column tested in a WHERE clause (a
     * permission's holders, the superusers role's members). */
    const holderReads = (statements) => statements.filter((s) => /\bWHERE\b[\s\S]*is_superuser/.test(s.sql));

    test('(member=<root>), a superuser, from the base: a few statements, no holder read; the answer equals reading every holder', async () => {
      const filter = `(&(objectClass=groupOfNames)(member=${dnIn('root')}))`;
      const fast = await statementsDuring(b.bridge.store, () => answer(BASE, filter, ['cn']));
      const old = await statementsDuring(b.bridge.store, () => answer(BASE, approx(filter), ['cn']));
      assert.deepEqual(fast.result, old.result);
      const perms = fast.result.filter((e) => e.dn.endsWith(`,ou=permissions,${BASE}`));
      assert.ok(perms.length >= 20, `root holds every permission: ${perms.length}`);
      assert.ok(fast.result.some((e) => e.dn === `cn=superusers,ou=roles,${BASE}`));
      assert.deepEqual(holderReads(fast.statements), [], `no holders read: ${fast.statements.map((s) => s.sql).join('\n')}`);
      assert.ok(fast.statements.length <= 8, `a few statements: ${fast.statements.length}`);
      assert.ok(holderReads(old.statements).length >= perms.length, 'reading every holder: one query per permission at least');
    });

    test('every user, filter shape, base and attribute list answers as reading every holder does', async () => {
      const names = ['alice', 'carol', 'dora', 'eve', 'frank', 'Frank', 'staffer', 'root', 'ROOT', 'josé.o+brien@x', 'u_md5', 'nobody'];
      const shapes = (n) => [
        `(member=${dnIn(n)})`,
        `(memberUid=${n})`,
        `(&(objectClass=groupOfNames)(memberUid=${n}))`,
        `(|(memberUid=${n})(cn=auth.view_user))`,
        `(&(cn=svn.*)(!(memberUid=${n})))`,
      ];
      let compared = 0;
      let entries = 0;
      for (const n of names) {
        for (const filter of shapes(n)) {
          for (const base of [BASE, `ou=permissions,${BASE}`, `ou=roles,${BASE}`]) {
            for (const attributes of [['cn'], []]) {
              // ROOT as a member DN means root (a bind's rule), and the approximate form is not
              // rewritten: compare it with root's own DN there.
              const reference = n === 'ROOT' && filter.startsWith('(member=') ? shapes('root')[0] : filter;
              const got = await answer(base, filter, attributes);
              assert.deepEqual(got, await answer(base, approx(reference), attributes), `${filter} from ${base} for [${attributes}]`);
              compared++;
              entries += got.length;
            }
          }
        }
      }
      assert.equal(compared, names.length * 5 * 3 * 2);
      assert.ok(entries > 500, `the answers hold entries to compare: ${entries}`);
    });
  });
}
