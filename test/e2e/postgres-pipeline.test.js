// On PostgreSQL the hot lookups (Apache's user by name, the bind's user with its hash, the
// membership test; alone or gathered) share one connection in pipeline mode: each statement is
// written at once and PostgreSQL answers them in order (src/db/postgres.ts). What a user must
// see: every client gets its own answer however many ask at once, the bridge holds one
// connection for them where the pool opened one per concurrent lookup, a change committed in
// Django is seen by the next operation, and a lost connection costs nothing once it is gone.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, client, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';

const pgUp = await postgresAvailable();
const dj = djangoAvailable({ engine: 'postgres' });
const skip = need('PostgreSQL on 127.0.0.1:5432', pgUp.ok, pgUp.reason) ?? need('Django (python3-django, python3-psycopg2)', dj.ok, dj.reason);

const USERS = `ou=users,${BASE}`;
const groupDn = (name) => `cn=${name},ou=groups,${BASE}`;
/** Group names that need no escaping in a DN (the DN suites test the others). */
const plain = (name) => /^[A-Za-z0-9][A-Za-z0-9 _-]*[A-Za-z0-9]$/.test(name);

/** The bridge's own connections to the test database (pg_stat_activity). */
async function bridgeConnections(admin, dbName) {
  const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'django-ldap-bridge'", [dbName]);
  return r.rows[0].n;
}

/** What Apache asks for one user, on one connection: the search by uid as the service account,
 * the user's bind, the rebind, and a membership test in a group of the user's and in one not. */
async function apacheRound(c, u, otherGroup) {
  await c.bind(SERVICE_DN, SERVICE_PW);
  const found = await c.search(USERS, { scope: 'sub', filter: `(&(objectClass=*)(uid=${u.username.replace(/[\\*()]/g, (x) => `\\${x.charCodeAt(0).toString(16)}`)}))`, attributes: ['uid'] });
  assert.equal(found.entries.length, 1, `one entry for ${u.username}`);
  assert.deepEqual(found.entries[0].attrs.uid, [u.username]);
  await c.bind(found.entries[0].dn, u.password); // rejects unless success
  await c.bind(SERVICE_DN, SERVICE_PW);
  const mine = u.groups.find(plain);
  assert.equal(await c.compare(groupDn(mine), 'member', found.entries[0].dn), true, `${u.username} in ${mine}`);
  assert.equal(await c.compare(groupDn(otherGroup), 'member', found.entries[0].dn), false, `${u.username} not in ${otherGroup}`);
}

describe('PostgreSQL: hot lookups share one pipelined connection', { skip, timeout: 180_000 }, () => {
  let db;
  let admin;
  let users;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'postgres' });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // Users Django lets in, in at least one group, with ASCII names (LDAP filter escaping of the
    // others is the filter suites' business).
    users = db.expected.users.filter((u) => u.authenticates && u.isActive && u.groups.some(plain) && /^[\x21-\x7e]+$/.test(u.username));
    assert.ok(users.length >= 8, `enough users (${users.length})`);
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
  });

  test('48 clients at once, each asking for its own user: every answer is that user\'s, and the bridge holds one connection for them, not one per lookup', async () => {
    const br = await startTestBridge({ url: db.url });
    const clients = [];
    try {
      const groups = db.expected.groups.map((g) => g.name);
      for (let i = 0; i < 48; i++) clients.push(client(br.url));
      // Each user's hash is checked once first (the slow hashers), so the 48 run together.
      for (const u of users) await apacheRound(clients[0], u, groups.find((g) => plain(g) && !u.groups.includes(g)));
      const before = await bridgeConnections(admin, db.name);
      await Promise.all(
        clients.map(async (c, i) => {
          for (let round = 0; round < 8; round++) {
            const u = users[(i + round) % users.length];
            await apacheRound(c, u, groups.find((g) => plain(g) && !u.groups.includes(g)));
          }
        }),
      );
      const during = await bridgeConnections(admin, db.name);
      // The pool (db.poolSize 10) still serves everything else (the start's schema checks): a
      // connection or two; the 48 clients' ~1,500 lookups added at most the one pipelined.
      assert.ok(during <= before + 1, `connections before ${before}, after the 48 clients ${during}`);
      assert.ok(during <= 3, `the bridge holds ${during} connections`);
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await br.close();
    }
  });

  test('PostgreSQL ends the shared connection (pg_terminate_backend, as a restart or an idle timeout would): the next operations open another and answer', async () => {
    const br = await startTestBridge({ url: db.url });
    const c = client(br.url);
    try {
      const u = users[0];
      const other = db.expected.groups.map((g) => g.name).find((g) => plain(g) && !u.groups.includes(g));
      await apacheRound(c, u, other);
      const ended = await admin.query("SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND application_name = 'django-ldap-bridge'", [db.name]);
      assert.ok(ended.rows.length >= 1 && ended.rows.every((r) => r.t), 'the bridge\'s connections were ended');
      // The termination reaches the bridge as an error on an idle connection.
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i++) await apacheRound(c, users[i], db.expected.groups.map((g) => g.name).find((g) => plain(g) && !users[i].groups.includes(g)));
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed');
    } finally {
      await c.close();
      await br.close();
    }
  });

  test('a password changed in Django, a user deactivated and a membership removed while 16 clients keep asking: the next lookups on the shared connection see each change', async () => {
    const br = await startTestBridge({ url: db.url });
    const clients = Array.from({ length: 16 }, () => client(br.url));
    const alice = users.find((u) => u.username === 'alice');
    assert.ok(alice, 'alice is in the test data');
    const aliceDn = `uid=alice,${USERS}`;
    const agents = groupDn('secret-agents');
    let stop = false;
    // Background load on the same bridge: other users' rounds, so alice's lookups share the
    // connection with theirs.
    const others = users.filter((u) => u.username !== 'alice');
    const groups = db.expected.groups.map((g) => g.name);
    const load = Promise.all(
      clients.slice(1).map(async (c, i) => {
        for (let round = 0; !stop; round++) {
          const u = others[(i + round) % others.length];
          await apacheRound(c, u, groups.find((g) => plain(g) && !u.groups.includes(g)));
        }
      }),
    );
    const c = clients[0];
    const bindCode = (password) =>
      c.bind(aliceDn, password).then(
        () => 0,
        (e) => e.code,
      );
    try {
      assert.equal(await bindCode(alice.password), 0, 'alice binds');
      await c.bind(SERVICE_DN, SERVICE_PW);
      assert.equal(await c.compare(agents, 'member', aliceDn), true, 'alice is an agent');
      await djangoShell(db.env, "u = User.objects.get(username='alice'); u.set_password('alice-new-pw'); u.save()");
      assert.equal(await bindCode(alice.password), 49, 'the old password: invalidCredentials at once');
      assert.equal(await bindCode('alice-new-pw'), 0, 'the new one');
      await c.bind(SERVICE_DN, SERVICE_PW);
      await admin.query("DELETE FROM auth_user_groups ug USING auth_user u, auth_group g WHERE ug.user_id = u.id AND ug.group_id = g.id AND u.username = 'alice' AND g.name = 'secret-agents'");
      assert.equal(await c.compare(agents, 'member', aliceDn), false, 'out of the group at once');
      await admin.query("UPDATE auth_user SET is_active = false WHERE username = 'alice'");
      assert.equal(await bindCode('alice-new-pw'), 49, 'deactivated: the right password no longer binds');
      stop = true;
      await load;
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed');
    } finally {
      stop = true;
      await load.catch(() => {});
      await Promise.all(clients.map((x) => x.close()));
      await br.close();
    }
  });
});
