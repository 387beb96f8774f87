// The bridge's PostgreSQL statements run as named prepared statements (db.preparedStatements,
// default on). What a user must not notice: a migration that changes a mapped column's type
// while the bridge runs (every pooled connection then holds a statement whose result type
// changed), and the setting turned off (for pgbouncer in transaction mode) answers the same.
// Timestamps come from the driver as text (parsed by the store only when shown): in any
// session time zone they are the instants Django stored.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { need, hasCommand } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';
import { startTestBridge, ldapsearch, ldapTool, BASE, SERVICE_DN, SERVICE_PW } from '../helpers/bridge.js';

const pgUp = await postgresAvailable();
const skip =
  need('Django (python3-django, python3-psycopg2)', djangoAvailable({ engine: 'postgres' }).ok, djangoAvailable({ engine: 'postgres' }).reason) ??
  need('OpenLDAP clients (ldap-utils)', hasCommand('ldapsearch', ['-VV']), 'ldapsearch not on PATH') ??
  need('PostgreSQL on 127.0.0.1:5432', pgUp.ok, pgUp.reason);

const USERS = `ou=users,${BASE}`;

/** `n` searches at once (so every pooled connection runs the statement) for alice's givenName. */
async function givenNames(url, n) {
  const rs = await Promise.all(Array.from({ length: n }, () => ldapsearch(url, { base: USERS, filter: '(uid=alice)', attrs: ['givenName', 'uid'] })));
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  return rs.map((r) => r.entries[0]?.attrs.givenName?.[0]);
}

describe('PostgreSQL prepared statements', { skip, timeout: 180_000 }, () => {
  let db;
  let admin;
  before(async () => {
    db = await makeDjangoDatabase({ engine: 'postgres' });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
  });

  test('a migration changing a mapped column type while the bridge runs: the next searches answer with the new data, none fails', async () => {
    const br = await startTestBridge({ url: db.url, config: { db: { poolSize: 4 } } });
    try {
      const first = (await admin.query('SELECT first_name FROM auth_user WHERE username = $1', ['alice'])).rows[0].first_name;
      assert.deepEqual(await givenNames(br.url, 8), Array(8).fill(first));
      // What a migration to a longer first_name does, then a user renamed in Django.
      await admin.query('ALTER TABLE auth_user ALTER COLUMN first_name TYPE text');
      await admin.query('UPDATE auth_user SET first_name = $1 WHERE username = $2', ['Alicia-after-migration', 'alice']);
      assert.deepEqual(await givenNames(br.url, 8), Array(8).fill('Alicia-after-migration'));
      assert.deepEqual(await givenNames(br.url, 8), Array(8).fill('Alicia-after-migration'), 'and again, on connections that prepared it afresh');
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed');
    } finally {
      await br.close();
    }
  });

  test('db.preparedStatements: false (pgbouncer in transaction mode) answers the same, and sees changes at once', async () => {
    const br = await startTestBridge({ url: db.url, config: { db: { preparedStatements: false } } });
    try {
      await admin.query('UPDATE auth_user SET first_name = $1 WHERE username = $2', ['Alicia-unprepared', 'alice']);
      assert.deepEqual(await givenNames(br.url, 4), Array(4).fill('Alicia-unprepared'));
      await admin.query('UPDATE auth_user SET first_name = $1 WHERE username = $2', ['Alicia-again', 'alice']);
      assert.deepEqual(await givenNames(br.url, 4), Array(4).fill('Alicia-again'));
    } finally {
      await br.close();
    }
  });

  test('timestamps are read as PostgreSQL writes them in the session time zone: djangoLastLogin is the stored instant, in UTC', async () => {
    await admin.query("UPDATE auth_user SET last_login = '2024-03-05 06:07:08.123456+00' WHERE username = 'alice'");
    try {
      // Offsets with minutes, negative with minutes, whole hours ("+01", no minutes) and UTC.
      for (const zone of ['Asia/Kolkata', 'America/St_Johns', 'Europe/Paris', 'UTC']) {
        await admin.query(`ALTER DATABASE "${db.name}" SET timezone = '${zone}'`); // new sessions only
        const br = await startTestBridge({ url: db.url });
        try {
          const r = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)', attrs: ['djangoLastLogin'] });
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.entries[0].attrs.djangoLastLogin, ['20240305060708Z'], zone);
        } finally {
          await br.close();
        }
      }
    } finally {
      await admin.query(`ALTER DATABASE "${db.name}" RESET timezone`);
    }
  });

  test('one pooled connection runs the same statements again and again (their result described once): every answer has that moment\'s data, NULLs and values, flags and a password change', async () => {
    // poolSize 1: every lookup reuses the one connection and its prepared statements.
    const br = await startTestBridge({ url: db.url, config: { db: { poolSize: 1 } } });
    const set = (sql, ...values) => admin.query(sql, values);
    try {
      const look = async () => {
        const r = await ldapsearch(br.url, { base: USERS, filter: '(uid=alice)', attrs: ['givenName', 'mail', 'djangoLastLogin', 'djangoIsStaff', 'memberOf', 'uid'] });
        assert.equal(r.code, 0, r.stderr);
        return r.entries[0]?.attrs;
      };
      const agents = `cn=secret-agents,ou=groups,${BASE}`;
      const isAgent = async () => (await ldapTool('ldapcompare', ['-x', '-H', br.url, '-D', SERVICE_DN, '-y', '/dev/stdin', agents, `member:uid=alice,${USERS}`], SERVICE_PW)).code;
      const membership = "FROM auth_user u, auth_group g WHERE u.username = 'alice' AND g.name = 'secret-agents'";
      await set("UPDATE auth_user SET first_name = 'Ann', email = '', last_login = NULL, is_staff = false WHERE username = 'alice'");
      const first = await look();
      assert.deepEqual(first.givenName, ['Ann']);
      assert.equal(first.mail, undefined, 'an empty email: no mail');
      assert.equal(first.djangoLastLogin, undefined, 'a NULL last_login: no djangoLastLogin');
      assert.deepEqual(first.djangoIsStaff, ['FALSE']);
      assert.deepEqual(first.memberOf, [agents]);
      assert.equal(await isAgent(), 6, 'compareTrue');
      await set(`DELETE FROM auth_user_groups ug USING auth_user u, auth_group g WHERE ug.user_id = u.id AND ug.group_id = g.id AND u.username = 'alice' AND g.name = 'secret-agents'`);
      assert.equal(await isAgent(), 5, 'out of the group: compareFalse');
      assert.equal((await look()).memberOf, undefined, 'and no memberOf');
      await set(`INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id ${membership}`);
      assert.equal(await isAgent(), 6, 'back in: compareTrue');
      await set("UPDATE auth_user SET first_name = 'Anna', email = 'anna@example.com', last_login = '2025-01-02 03:04:05+00', is_staff = true WHERE username = 'alice'");
      const second = await look();
      assert.deepEqual(second.givenName, ['Anna']);
      assert.deepEqual(second.mail, ['anna@example.com']);
      assert.deepEqual(second.djangoLastLogin, ['20250102030405Z']);
      assert.deepEqual(second.djangoIsStaff, ['TRUE']);
      assert.deepEqual(second.memberOf, [agents, `cn=staff,ou=roles,${BASE}`], "is_staff: the staff role too");
      // A bind's lookup (the hash too) on the same connection: a password set in Django counts
      // at the next bind, the old one no longer does.
      const dn = `uid=alice,${USERS}`;
      const as = (password) => ldapsearch(br.url, { bindDn: dn, password, base: USERS, filter: '(uid=alice)', attrs: ['uid'] });
      assert.equal((await as('lètmein-alice')).code, 0, 'the password Django set');
      await djangoShell(db.env, "u = User.objects.get(username='alice'); u.set_password('alice-changed-pw'); u.save()");
      assert.equal((await as('lètmein-alice')).code, 49, 'the old password: invalidCredentials');
      assert.equal((await as('alice-changed-pw')).code, 0, 'the new one');
      assert.equal(br.logs.filter((l) => l.includes('"operation failed"')).length, 0, 'no operation failed');
    } finally {
      await br.close();
    }
  });

  test('db.preparedStatements must be true or false: anything else is refused, naming the setting', async () => {
    await assert.rejects(startTestBridge({ url: db.url, config: { db: { preparedStatements: 'no' } } }), /db\.preparedStatements/);
  });
});
