// The Django test project (test/django/) and its helper (test/helpers/django.js): databases made
// by real Django, and the `expected` document populate.py prints about them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, pbkdf2Sync } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { need } from '../helpers/require.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase, djangoShell } from '../helpers/django.js';

const sqliteDjango = djangoAvailable({ engine: 'sqlite' });
const pgDjango = djangoAvailable({ engine: 'postgres' });
const pgServer = await postgresAvailable();

const skipSqlite = need('Django', sqliteDjango.ok, sqliteDjango.reason);
const skipPg = need('Django with psycopg2', pgDjango.ok, pgDjango.reason) ??
  need('PostgreSQL', pgServer.ok, pgServer.reason);

const HASHER_USERS = {
  u_pbkdf2_sha1: 'pbkdf2_sha1',
  u_argon2: 'argon2',
  u_bcrypt_sha256: 'bcrypt_sha256',
  u_bcrypt: 'bcrypt',
  u_sha1: 'sha1',
  u_md5: 'md5',
  u_unsalted_md5: 'unsalted_md5',
  u_unsalted_sha1: 'unsalted_sha1',
  u_crypt: 'crypt',
  u_pbkdf2_default: 'pbkdf2_sha256',
};
const HOSTILE_GROUPS = ['C++ Developers', "Smith, John's team", ' leading space', 'trailing space ', '#hash', 'a=b+c;<d>"e"\\f', 'Ünïcödé'];
const DEFAULT_USERS = ['alice', 'bob', 'carol', ...Object.keys(HASHER_USERS), 'dora', 'eve', 'frank', 'Frank', 'staffer', 'root', 'josé.o+brien@x'];
const CUSTOM_USERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dora@example.com', 'root@example.com'];

/** Rows of the user table read straight from the database through db.url. */
async function usernamesInDatabase(db) {
  const { table, usernameField } = db.expected.userModel;
  const sql = `SELECT "${usernameField}" AS u FROM "${table}" ORDER BY id`;
  if (db.url.startsWith('sqlite://')) {
    const conn = new Database(db.url.slice('sqlite://'.length), { readonly: true, fileMustExist: true });
    try { return conn.prepare(sql).all().map((r) => r.u); } finally { conn.close(); }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try { return (await client.query(sql)).rows.map((r) => r.u); } finally { await client.end(); }
}

async function pgDatabaseExists(name) {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: pgServer.user, database: 'postgres' });
  await client.connect();
  try { return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1; } finally { await client.end(); }
}

/** Independent re-computation of the simple Django hash formats, in Node. */
function nodeVerify(encoded, password) {
  let m;
  if ((m = /^pbkdf2_(sha256|sha1)\$(\d+)\$([^$]+)\$(.+)$/.exec(encoded))) {
    const len = m[1] === 'sha256' ? 32 : 20;
    return pbkdf2Sync(password, m[3], Number(m[2]), len, m[1]).toString('base64') === m[4];
  }
  if ((m = /^(sha1|md5)\$([^$]+)\$([0-9a-f]+)$/.exec(encoded))) {
    return createHash(m[1]).update(m[2] + password).digest('hex') === m[3];
  }
  if ((m = /^sha1\$\$([0-9a-f]{40})$/.exec(encoded))) return createHash('sha1').update(password).digest('hex') === m[1];
  if (/^[0-9a-f]{32}$/.test(encoded)) return createHash('md5').update(password).digest('hex') === encoded;
  return undefined; // argon2, bcrypt, crypt: not re-checked here
}

function byName(expected) {
  return Object.fromEntries(expected.users.map((u) => [u.username, u]));
}

function commonChecks(getDb) {
  test('users: Django checks the right password, rejects the wrong one', () => {
    for (const u of getDb().expected.users) {
      assert.equal(u.checkWrong, false, `${u.username}: wrong password accepted`);
      if (u.hasher === 'unusable') {
        assert.equal(u.checkRight, false, u.username);
        assert.equal(u.authenticates, false, u.username);
      } else {
        // check_password() does not look at is_active; authenticate() (ModelBackend) does.
        assert.equal(u.checkRight, true, `${u.username}: right password rejected`);
        assert.equal(u.authenticates, u.isActive, u.username);
      }
      if (!u.isActive) assert.deepEqual(u.permissions, [], `${u.username}: inactive users have no permissions`);
      assert.ok(!Number.isNaN(Date.parse(u.dateJoined)), u.dateJoined);
      const local = nodeVerify(u.encoded, u.password);
      if (local !== undefined) assert.equal(local, u.checkRight, `${u.username}: Node disagrees with Django on ${u.encoded}`);
    }
  });

  test('the database at db.url holds exactly the users described', async () => {
    const db = getDb();
    assert.deepEqual(await usernamesInDatabase(db), db.expected.users.map((u) => u.username));
  });

  test('permissions and groups are as Django reports them', () => {
    const { expected } = getDb();
    const commit = expected.permissions.find((p) => p.appLabel === 'svn' && p.codename === 'commit_repo');
    assert.equal(commit?.name, 'Can commit to the repository');
    const committers = expected.groups.find((g) => g.name === 'committers');
    assert.deepEqual(committers.permissions, ['svn.commit_repo']);
    const users = byName(expected);
    const carol = expected.mode === 'custom' ? users['carol@example.com'] : users.carol;
    assert.ok(carol.permissions.includes('svn.commit_repo'));
    const root = expected.mode === 'custom' ? users['root@example.com'] : users.root;
    assert.equal(root.isSuperuser, true);
    assert.deepEqual(root.permissions, expected.permissions.map((p) => `${p.appLabel}.${p.codename}`).sort());
    for (const g of expected.groups) {
      for (const m of g.members) assert.ok(users[m].groups.includes(g.name), `${m} in ${g.name}`);
    }
  });

  test('djangoShell runs ORM code against the same database', async () => {
    const db = getDb();
    const name = db.expected.users[0].username;
    const out = await djangoShell(db.env, [
      `u = User.objects.get(**{User.USERNAME_FIELD: ${JSON.stringify(name)}})`,
      'u.is_active = False',
      'u.save()',
      'print(User.objects.filter(is_active=False).count(), Group.objects.count())',
    ].join('\n'));
    const inactive = db.expected.users.filter((u) => !u.isActive).length + 1;
    assert.equal(out.trim(), `${inactive} ${db.expected.groups.length}`);
    await assert.rejects(djangoShell(db.env, 'raise SystemExit("boom")'), /boom/);
  });
}

function defaultModeChecks(getDb) {
  test('default mode: every required user, hasher and group', () => {
    const { expected } = getDb();
    assert.equal(expected.mode, 'default');
    assert.match(expected.djangoVersion, /^3\.2\./);
    assert.equal(expected.userModel.table, 'auth_user');
    const users = byName(expected);
    for (const name of DEFAULT_USERS) assert.ok(users[name], `missing user ${name}`);

    for (const [name, algorithm] of Object.entries(HASHER_USERS)) {
      assert.equal(users[name].hasher, algorithm, name);
      assert.ok(users[name].groups.includes('hashers'), name);
    }
    assert.match(users.alice.encoded, /^pbkdf2_sha256\$1000\$/);
    assert.equal(users.alice.password, 'lètmein-alice');
    assert.match(users.u_pbkdf2_default.encoded, /^pbkdf2_sha256\$260000\$/);
    assert.match(users.u_unsalted_md5.encoded, /^[0-9a-f]{32}$/);
    assert.match(users.u_unsalted_sha1.encoded, /^sha1\$\$[0-9a-f]{40}$/);
    assert.match(users.u_crypt.encoded, /^crypt\$\$[./0-9A-Za-z]{13}$/);
    // DES crypt only looks at 8 characters; Django agrees.
    assert.deepEqual(users.u_crypt.extraChecks.map((c) => c.check), [true, true, false]);
    assert.match(users.u_argon2.encoded, /^argon2\$argon2id\$v=19\$m=1024,t=1,p=8\$/);
    assert.match(users.u_bcrypt_sha256.encoded, /^bcrypt_sha256\$\$2b\$04\$/);
    assert.match(users.u_bcrypt.encoded, /^bcrypt\$\$2b\$04\$/);

    assert.equal(users.dora.isActive, false);
    assert.equal(users.dora.checkRight, true);
    assert.deepEqual(users.dora.directPermissions, ['svn.commit_repo']);
    assert.deepEqual(users.dora.permissions, []);
    assert.equal(users.eve.hasher, 'unusable');
    assert.equal(users.eve.checkRight, false);
    assert.equal(users.bob.hasher, 'pbkdf2_sha256');
    assert.deepEqual(users.bob.permissions, ['auth.view_user']);
    assert.equal(users.staffer.isStaff, true);
    assert.equal(users.root.isStaff && users.root.isSuperuser, true);
    assert.notEqual(users.frank.id, users.Frank.id);
    assert.notEqual(users.frank.password, users.Frank.password);
    assert.deepEqual(users['josé.o+brien@x'].groups, ['C++ Developers', 'a=b+c;<d>"e"\\f']);

    const agents = expected.groups.find((g) => g.name === 'secret-agents');
    assert.deepEqual(agents.members, ['alice', 'dora', 'eve', 'frank']);
    for (const name of HOSTILE_GROUPS) {
      const g = expected.groups.find((x) => x.name === name);
      assert.ok(g && g.members.length > 0, `group ${JSON.stringify(name)} missing or empty`);
    }
    const all = expected.users.map((u) => u.password).join('');
    for (const ch of ['$', ':', '"', "'", '\\', 'é', 'ö']) assert.ok(all.includes(ch), `no password contains ${ch}`);
  });
}

function customModeChecks(getDb) {
  test('custom mode: users identified by e-mail', () => {
    const { expected } = getDb();
    assert.equal(expected.mode, 'custom');
    assert.deepEqual(expected.userModel, {
      label: 'accounts.User', table: 'accounts_user', usernameField: 'email',
      groupsTable: 'accounts_user_groups', userPermissionsTable: 'accounts_user_user_permissions',
    });
    const users = byName(expected);
    for (const name of CUSTOM_USERS) {
      assert.ok(users[name], `missing user ${name}`);
      assert.equal(users[name].email, name);
      assert.equal(users[name].firstName, '');
      assert.equal(users[name].lastName, '');
    }
    assert.equal(users['alice@example.com'].fullName, 'Alice Liddell');
    assert.equal(users['dora@example.com'].isActive, false);
    assert.equal(users['dora@example.com'].checkRight, true);
    assert.deepEqual(users['bob@example.com'].permissions, ['accounts.view_user']);
    assert.ok(!expected.permissions.some((p) => p.appLabel === 'auth' && p.model === 'user'), 'auth.User is swapped out');
    const agents = expected.groups.find((g) => g.name === 'secret-agents');
    assert.ok(agents.members.includes('alice@example.com') && !agents.members.includes('bob@example.com'));
  });
}

const CONFIGS = [
  { engine: 'sqlite', custom: false, skip: skipSqlite },
  { engine: 'postgres', custom: false, skip: skipPg },
  { engine: 'sqlite', custom: true, skip: skipSqlite },
  { engine: 'postgres', custom: true, skip: skipPg },
];

for (const { engine, custom, skip } of CONFIGS) {
  describe(`Django project on ${engine}${custom ? ' (custom user model)' : ''}`, { skip }, () => {
    let db;
    const getDb = () => db;
    before(async () => {
      db = await makeDjangoDatabase({ engine, custom });
      console.log(`${engine}${custom ? '/custom' : ''}: migrate ${db.timings.migrateMs} ms, populate ${db.timings.populateMs} ms`);
    });
    after(async () => { await db?.drop(); });

    test('url has the bridge format', () => {
      if (engine === 'sqlite') assert.match(db.url, /^sqlite:\/\/\/.+\/db\.sqlite3$/);
      else assert.match(db.url, /^postgres:\/\/(postgres|root)@127\.0\.0\.1:5432\/dlb_test_[0-9a-f]+$/);
    });

    commonChecks(getDb);
    if (custom) customModeChecks(getDb);
    else defaultModeChecks(getDb);

    test('drop() removes the database', async () => {
      if (engine === 'sqlite') assert.ok(existsSync(db.name));
      else assert.ok(await pgDatabaseExists(db.name));
      await db.drop();
      await db.drop(); // idempotent
      if (engine === 'sqlite') assert.ok(!existsSync(db.name));
      else assert.ok(!(await pgDatabaseExists(db.name)));
    });
  });
}
