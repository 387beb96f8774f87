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
import { djangoAvailable, postgresAvailable, makeDjangoDatabase } from '../helpers/django.js';
import { startTestBridge, ldapsearch, BASE } from '../helpers/bridge.js';

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

  test('db.preparedStatements must be true or false: anything else is refused, naming the setting', async () => {
    await assert.rejects(startTestBridge({ url: db.url, config: { db: { preparedStatements: 'no' } } }), /db\.preparedStatements/);
  });
});
