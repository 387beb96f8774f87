// Configuration loading: precedence, environment parsing, database URLs, validation messages.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadConfig,
  ConfigError,
  DEFAULT_DJANGO_MAPPING,
  listEnvVars,
  envVarName,
  configSchema,
} from '../../../dist/config/load.js';
import { parseDatabaseUrl, redactDatabaseUrl, ConfigError as UrlConfigError } from '../../../dist/config/database-url.js';
import YAML from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const HASH = 'pbkdf2_sha256$1000000$3Oq4W1cJmmrtBFkzIy9Rlc$kWzJ6yq8LJ9fybFdf7dYfODgjbNhAg0bqbbL3xHSuX4=';
const SECRET = 'hunter2-Sekr1t';
const BASE_ENV = { DATABASE_URL: 'sqlite:///srv/mysite/db.sqlite3', DJANGO_LDAP_BASE_DN: 'dc=example,dc=com' };

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dlb-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name, text) {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The ConfigError that fn throws. */
function problemsOf(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.name, 'ConfigError');
    assert.equal(e.message, e.problems.join('\n'));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('defaults', () => {
  test('with only database and baseDn, everything is Django\'s default auth schema', () => {
    const c = loadConfig({ env: { ...BASE_ENV } });
    assert.equal(c.database, 'sqlite:///srv/mysite/db.sqlite3');
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:3389']);
    assert.deepEqual(c.tree, {
      baseDn: 'dc=example,dc=com', usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services',
    });
    assert.deepEqual(c.serviceAccounts, []);
    assert.deepEqual(c.anonymous, { search: false });
    assert.equal(c.caseInsensitiveUsernames, false);
    assert.equal(c.showInactiveUsers, false);
    assert.deepEqual(c.django, DEFAULT_DJANGO_MAPPING);
    assert.deepEqual(c.log, { level: 'info', format: 'auto' });
    assert.deepEqual({ maxSearchEntries: c.limits.maxSearchEntries, maxSearchSeconds: c.limits.maxSearchSeconds, maxMessageBytes: c.limits.maxMessageBytes }, { maxSearchEntries: 100000, maxSearchSeconds: 60, maxMessageBytes: 262144 });
  });

  test('DEFAULT_DJANGO_MAPPING is frozen and the result is a fresh copy', () => {
    assert.ok(Object.isFrozen(DEFAULT_DJANGO_MAPPING.users));
    const c = loadConfig({ env: { ...BASE_ENV } });
    c.django.users.table = 'changed';
    assert.equal(DEFAULT_DJANGO_MAPPING.users.table, 'auth_user');
  });

  test('the schema\'s documented defaults agree with DEFAULT_DJANGO_MAPPING', () => {
    const s = configSchema();
    const u = s.properties.users.properties;
    const cols = u.columns.properties;
    const d = DEFAULT_DJANGO_MAPPING;
    assert.equal(u.table.default, d.users.table);
    assert.equal(u.usernameField.default, d.users.username);
    for (const k of ['id', 'password', 'isActive', 'isStaff', 'isSuperuser', 'firstName', 'lastName', 'email', 'dateJoined', 'lastLogin']) {
      assert.equal(cols[k].default, d.users[k], k);
    }
    const ug = u.groups.anyOf[1].properties;
    assert.deepEqual([ug.table.default, ug.userColumn.default, ug.groupColumn.default], [d.userGroups.table, d.userGroups.userColumn, d.userGroups.otherColumn]);
    const up = u.permissions.anyOf[1].properties;
    assert.deepEqual([up.table.default, up.userColumn.default, up.permissionColumn.default], [d.userPermissions.table, d.userPermissions.userColumn, d.userPermissions.otherColumn]);
    const g = s.properties.groups.anyOf[1].properties;
    assert.deepEqual([g.table.default, g.id.default, g.name.default], [d.groups.table, d.groups.id, d.groups.name]);
    const gp = g.permissions.anyOf[1].properties;
    assert.deepEqual([gp.table.default, gp.groupColumn.default, gp.permissionColumn.default], Object.values(d.groups.permissions));
    const p = s.properties.permissions.anyOf[1].properties;
    for (const k of Object.keys(d.permissions)) assert.equal(p[k].default, d.permissions[k], k);
  });

  test('every key in the schema has a description', () => {
    const missing = [];
    const walk = (node, path) => {
      if (path && !node.description) missing.push(path);
      for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
      for (const b of node.anyOf ?? []) if (b.properties) for (const [k, v] of Object.entries(b.properties)) walk(v, `${path}.${k}`);
      if (node.items?.properties) for (const [k, v] of Object.entries(node.items.properties)) walk(v, `${path}[].${k}`);
    };
    walk(configSchema(), '');
    assert.deepEqual(missing, []);
  });
});

describe('precedence: flags > file > environment > defaults', () => {
  test('each source wins over the weaker ones, setting by setting', () => {
    const cfg = file('prec.yaml', [
      'database: sqlite:///from/file.sqlite3',
      'baseDn: dc=file,dc=com',
      'listen: [ldap://127.0.0.1:1111]',
      'log: { level: warn }',
      'users: { table: file_user }',
    ].join('\n'));
    const env = {
      DATABASE_URL: 'sqlite:///from/env.sqlite3',
      DJANGO_LDAP_BASE_DN: 'dc=env,dc=com',
      DJANGO_LDAP_LISTEN: 'ldap://127.0.0.1:2222',
      DJANGO_LDAP_LOG_LEVEL: 'error',
      DJANGO_LDAP_LOG_FORMAT: 'json',
      DJANGO_LDAP_USERS_TABLE: 'env_user',
      DJANGO_LDAP_USERS_COLUMNS_EMAIL: 'env_email',
    };
    // file beats env; env fills what the file leaves out
    let c = loadConfig({ env, flags: { config: cfg } });
    assert.equal(c.database, 'sqlite:///from/file.sqlite3');
    assert.equal(c.tree.baseDn, 'dc=file,dc=com');
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:1111']);
    assert.deepEqual(c.log, { level: 'warn', format: 'json' });
    assert.equal(c.django.users.table, 'file_user');
    assert.equal(c.django.users.email, 'env_email');
    // flags beat the file
    c = loadConfig({
      env,
      flags: { config: cfg, database: 'sqlite:///from/flag.sqlite3', baseDn: 'dc=flag,dc=com', listen: ['ldap://127.0.0.1:3333'], logLevel: 'debug', logFormat: 'pretty' },
    });
    assert.equal(c.database, 'sqlite:///from/flag.sqlite3');
    assert.equal(c.tree.baseDn, 'dc=flag,dc=com');
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:3333']);
    assert.deepEqual(c.log, { level: 'debug', format: 'pretty' });
    // env beats the defaults
    c = loadConfig({ env });
    assert.equal(c.database, 'sqlite:///from/env.sqlite3');
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:2222']);
    assert.equal(c.django.users.table, 'env_user');
  });

  test('DJANGO_LDAP_DATABASE beats DATABASE_URL', () => {
    const c = loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_DATABASE: 'sqlite:///specific.sqlite3' } });
    assert.equal(c.database, 'sqlite:///specific.sqlite3');
  });

  test('mappings merge key by key across sources; false and lists replace', () => {
    const cfg = file('merge.yaml', 'users:\n  columns:\n    firstName: null\n  groups: false\ngroups:\n  name: title\n');
    const c = loadConfig({
      flags: { config: cfg },
      env: { ...BASE_ENV, DJANGO_LDAP_USERS_COLUMNS_LAST_NAME: 'surname', DJANGO_LDAP_GROUPS: 'false', DJANGO_LDAP_USERS_GROUPS_TABLE: 'x_groups' },
    });
    assert.equal(c.django.users.firstName, null);
    assert.equal(c.django.users.lastName, 'surname');
    assert.equal(c.django.users.email, 'email');
    assert.equal(c.django.userGroups, null, 'users.groups: false in the file beats the env table');
    assert.deepEqual(c.django.groups, { ...DEFAULT_DJANGO_MAPPING.groups, name: 'title' }, 'a mapping in the file beats groups=false in the env');
  });

  test('DJANGO_LDAP_CONFIG names the file; --config beats it', () => {
    const a = file('a.yaml', 'baseDn: dc=a,dc=com\n');
    const b = file('b.json', '{"baseDn": "dc=b,dc=com"}');
    const env = { DATABASE_URL: 'sqlite:///x.sqlite3', DJANGO_LDAP_CONFIG: a };
    assert.equal(loadConfig({ env }).tree.baseDn, 'dc=a,dc=com');
    assert.equal(loadConfig({ env, flags: { config: b } }).tree.baseDn, 'dc=b,dc=com');
  });

  test('a relative config path is relative to cwd', () => {
    file('rel.yml', 'baseDn: dc=rel,dc=com\n');
    assert.equal(loadConfig({ env: { DATABASE_URL: 'sqlite:///x' }, flags: { config: 'rel.yml' }, cwd: dir }).tree.baseDn, 'dc=rel,dc=com');
  });

  test('absent flags (undefined, an empty --listen list) do not override', () => {
    const c = loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_LISTEN: 'ldap://0.0.0.0:389' }, flags: { listen: [], database: undefined, logLevel: undefined } });
    assert.deepEqual(c.listen, ['ldap://0.0.0.0:389']);
    assert.equal(c.database, BASE_ENV.DATABASE_URL);
  });

  test('database and baseDn are required from some source', () => {
    const p = problemsOf(() => loadConfig({ env: {} }));
    assert.deepEqual(p, [
      'database: required (set --database, DATABASE_URL or database: in the config file)',
      'baseDn: required (set --base-dn, DJANGO_LDAP_BASE_DN or baseDn: in the config file)',
    ]);
  });
});

describe('environment variables', () => {
  test('names are derived from the schema paths, camelCase -> UPPER_SNAKE, all distinct', () => {
    const names = listEnvVars().map((s) => s.name);
    for (const n of [
      'DJANGO_LDAP_DATABASE', 'DJANGO_LDAP_BASE_DN', 'DJANGO_LDAP_LISTEN', 'DJANGO_LDAP_SERVICE_ACCOUNTS', 'DJANGO_LDAP_ANONYMOUS_SEARCH',
      'DJANGO_LDAP_TREE_USERS', 'DJANGO_LDAP_USERS_TABLE', 'DJANGO_LDAP_USERS_USERNAME_FIELD', 'DJANGO_LDAP_USERS_CASE_INSENSITIVE',
      'DJANGO_LDAP_USERS_SHOW_INACTIVE', 'DJANGO_LDAP_USERS_COLUMNS_EMAIL', 'DJANGO_LDAP_USERS_COLUMNS_IS_ACTIVE', 'DJANGO_LDAP_USERS_GROUPS',
      'DJANGO_LDAP_USERS_GROUPS_GROUP_COLUMN', 'DJANGO_LDAP_USERS_PERMISSIONS_PERMISSION_COLUMN', 'DJANGO_LDAP_GROUPS', 'DJANGO_LDAP_GROUPS_PERMISSIONS',
      'DJANGO_LDAP_GROUPS_PERMISSIONS_TABLE', 'DJANGO_LDAP_PERMISSIONS', 'DJANGO_LDAP_PERMISSIONS_CONTENT_TYPE_TABLE', 'DJANGO_LDAP_LOG_LEVEL',
      'DJANGO_LDAP_LOG_FORMAT', 'DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES', 'DJANGO_LDAP_LIMITS_MAX_SEARCH_SECONDS',
    ]) assert.ok(names.includes(n), n);
    assert.equal(new Set(names).size, names.length);
    assert.ok(!names.some((n) => n.includes('$SCHEMA')));
    assert.equal(envVarName(['permissions', 'contentTypeId']), 'DJANGO_LDAP_PERMISSIONS_CONTENT_TYPE_ID');
  });

  test('values are parsed by the schema type', () => {
    const c = loadConfig({
      env: {
        ...BASE_ENV,
        DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'true',
        DJANGO_LDAP_USERS_SHOW_INACTIVE: '1',
        DJANGO_LDAP_ANONYMOUS_SEARCH: 'TRUE',
        DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES: '500',
        DJANGO_LDAP_LIMITS_MAX_SEARCH_SECONDS: '2.5',
        DJANGO_LDAP_USERS_COLUMNS_FIRST_NAME: 'null',
        DJANGO_LDAP_USERS_COLUMNS_LAST_NAME: 'NULL',
        DJANGO_LDAP_USERS_COLUMNS_EMAIL: 'mail_address',
        DJANGO_LDAP_USERS_PERMISSIONS: 'false',
        DJANGO_LDAP_GROUPS_PERMISSIONS: '0',
        DJANGO_LDAP_LISTEN: ' ldap://127.0.0.1:389 , ldap://[::1]:389 ,',
        DJANGO_LDAP_SERVICE_ACCOUNTS: JSON.stringify([{ dn: 'cn=apache,ou=services,dc=example,dc=com', password: HASH }]),
        DJANGO_LDAP_TREE_USERS: 'people',
      },
    });
    assert.equal(c.caseInsensitiveUsernames, true);
    assert.equal(c.showInactiveUsers, true);
    assert.equal(c.anonymous.search, true);
    assert.deepEqual({ maxSearchEntries: c.limits.maxSearchEntries, maxSearchSeconds: c.limits.maxSearchSeconds }, { maxSearchEntries: 500, maxSearchSeconds: 2.5 });
    assert.equal(c.django.users.firstName, null);
    assert.equal(c.django.users.lastName, null);
    assert.equal(c.django.users.email, 'mail_address');
    assert.equal(c.django.userPermissions, null);
    assert.equal(c.django.groups.permissions, null);
    assert.deepEqual(c.django.userGroups, DEFAULT_DJANGO_MAPPING.userGroups);
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:389', 'ldap://[::1]:389']);
    assert.deepEqual(c.serviceAccounts, [{ dn: 'cn=apache,ou=services,dc=example,dc=com', password: HASH }]);
    assert.equal(c.tree.usersOu, 'people');
  });

  test('false / 0 switch booleans off; empty values count as unset', () => {
    const c = loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_ANONYMOUS_SEARCH: 'false', DJANGO_LDAP_USERS_SHOW_INACTIVE: '0', DJANGO_LDAP_USERS_TABLE: '', DJANGO_LDAP_GROUPS: 'FALSE' } });
    assert.equal(c.anonymous.search, false);
    assert.equal(c.showInactiveUsers, false);
    assert.equal(c.django.users.table, 'auth_user');
    assert.equal(c.django.groups, null);
    assert.equal(c.django.userGroups, null, 'userGroups needs groups');
  });

  test('bad values are reported with the setting path and the variable', () => {
    const p = problemsOf(() =>
      loadConfig({
        env: {
          ...BASE_ENV,
          DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'maybe',
          DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES: 'lots',
          DJANGO_LDAP_GROUPS: 'yes',
          DJANGO_LDAP_LOG_LEVEL: 'verbose',
          DJANGO_LDAP_SERVICE_ACCOUNTS: `not json ${SECRET}`,
        },
      }),
    );
    assert.ok(p.includes('users.caseInsensitive: must be a boolean (true or false) (from DJANGO_LDAP_USERS_CASE_INSENSITIVE)'), p.join('\n'));
    assert.ok(p.includes('limits.maxSearchEntries: must be an integer (from DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES)'), p.join('\n'));
    assert.ok(p.includes('groups: must be false or a mapping (from DJANGO_LDAP_GROUPS)'), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('log.level: must be one of trace, debug, info, warn, error, fatal, silent') && l.endsWith('(from DJANGO_LDAP_LOG_LEVEL)')), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('DJANGO_LDAP_SERVICE_ACCOUNTS: must be a JSON list')), p.join('\n'));
    assert.ok(!p.join('\n').includes(SECRET));
  });

  test('a relation switched off cannot also be configured in the environment', () => {
    const p = problemsOf(() => loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_GROUPS: 'false', DJANGO_LDAP_GROUPS_TABLE: 'g' } }));
    assert.deepEqual(p, ['DJANGO_LDAP_GROUPS_TABLE: conflicts with DJANGO_LDAP_GROUPS=false (that relation is switched off)']);
  });

  test('unrelated variables are ignored', () => {
    assert.doesNotThrow(() => loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_SERVER_URI: 'ldap://elsewhere', PATH: '/bin' } }));
  });
});

describe('database URLs', () => {
  const cases = [
    ['sqlite:///srv/mysite/db.sqlite3', { kind: 'sqlite', path: '/srv/mysite/db.sqlite3' }],
    ['sqlite://./data/db.sqlite3', { kind: 'sqlite', path: '/work/site/data/db.sqlite3' }],
    ['sqlite://db.sqlite3', { kind: 'sqlite', path: '/work/site/db.sqlite3' }],
    ['sqlite:///srv/my%20site/db.sqlite3', { kind: 'sqlite', path: '/srv/my site/db.sqlite3' }],
    ['postgres://app@127.0.0.1:5432/mysite', { kind: 'postgres', user: 'app', host: '127.0.0.1', port: 5432, database: 'mysite' }],
    ['postgresql://db.example.com/mysite', { kind: 'postgres', host: 'db.example.com', database: 'mysite' }],
    [
      'postgres://us%40er:p%40ss%3Aw%2Frd@db.example.com:6543/my%20db?sslmode=verify-full',
      { kind: 'postgres', user: 'us@er', password: 'p@ss:w/rd', host: 'db.example.com', port: 6543, database: 'my db', ssl: 'verify-full' },
    ],
    ['postgres://app:pw@[::1]:5433/mysite?sslmode=disable', { kind: 'postgres', user: 'app', password: 'pw', host: '::1', port: 5433, database: 'mysite', ssl: 'disable' }],
    ['postgres://app@%2Fvar%2Frun%2Fpostgresql/mysite', { kind: 'postgres', user: 'app', socketDir: '/var/run/postgresql', database: 'mysite' }],
    ['postgres:///mysite?host=/var/run/postgresql', { kind: 'postgres', socketDir: '/var/run/postgresql', database: 'mysite' }],
    ['postgres://app@%2Ftmp:5433/mysite', { kind: 'postgres', user: 'app', socketDir: '/tmp', port: 5433, database: 'mysite' }],
    ['postgres://localhost/x?dbname=mysite&user=app&port=7000&sslmode=require', { kind: 'postgres', host: 'localhost', user: 'app', port: 7000, database: 'mysite', ssl: 'require' }],
    ['postgres://app:p@ss@localhost/mysite', { kind: 'postgres', user: 'app', password: 'p@ss', host: 'localhost', database: 'mysite' }],
  ];
  for (const [url, want] of cases) {
    test(`parses ${url}`, () => {
      assert.deepEqual(parseDatabaseUrl(url, '/work/site'), want);
    });
  }

  const bad = [
    [`oracle://root:${SECRET}@localhost/mysite`, 'database: unsupported scheme "oracle:" (expected sqlite://, postgres:// or mysql://)'],
    ['/srv/mysite/db.sqlite3', /^database: not a URL/],
    ['', 'database: must not be empty'],
    ['sqlite://', /^database: the sqlite:\/\/ URL names no file/],
    ['sqlite:///db.sqlite3?mode=ro', /^database: sqlite:\/\/ URLs take no parameters/],
    [`postgres://app:${SECRET}@localhost`, /^database: the postgres:\/\/ URL names no database/],
    [`postgres://app:${SECRET}@localhost:99999/mysite`, /^database: invalid port/],
    [`postgres://app:${SECRET.slice(0, 4)}/${SECRET.slice(4)}@localhost/mysite`, /^database: invalid port .*percent-encode/],
    [`postgres://app:${SECRET}@localhost/mysite?sslmode=sometimes`, 'database: invalid sslmode "sometimes" (expected disable, allow, prefer, require, verify-ca, verify-full)'],
    [`postgres://app:${SECRET}@localhost/mysite?connect_timeout=5`, /^database: unsupported URL parameter "connect_timeout"/],
    [`postgres://app:${SECRET}@h1,h2/mysite`, /^database: several hosts/],
    [`postgres://app:${SECRET}%zz@localhost/mysite`, 'database: invalid percent-encoding in the password'],
    [`postgres://app:${SECRET}#x@localhost/mysite`, /^database: unexpected "#"/],
  ];
  for (const [url, want] of bad) {
    test(`rejects ${url.replace(SECRET, '<password>') || '""'} without echoing the password`, () => {
      let err;
      try {
        parseDatabaseUrl(url, '/work/site');
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof UrlConfigError && err instanceof ConfigError, 'a ConfigError (the same class from both modules)');
      assert.equal(err.problems.length, 1);
      if (typeof want === 'string') assert.equal(err.message, want);
      else assert.match(err.message, want);
      for (const piece of [SECRET, SECRET.slice(0, 4), SECRET.slice(4)]) assert.ok(!err.message.includes(piece), err.message);
    });
  }

  test('redactDatabaseUrl masks passwords, parseable or not', () => {
    assert.equal(redactDatabaseUrl(`postgres://app:${SECRET}@db:5432/mysite`), 'postgres://app:***@db:5432/mysite');
    assert.equal(redactDatabaseUrl(`postgres://app:p%40${SECRET}@db/mysite?sslmode=require`), 'postgres://app:***@db/mysite?sslmode=require');
    assert.equal(redactDatabaseUrl(`postgres://app@db/mysite?password=${SECRET}&sslmode=require`), 'postgres://app@db/mysite?password=***&sslmode=require');
    assert.equal(redactDatabaseUrl(`postgres://app:a/${SECRET}@db/mysite`), 'postgres://app:***@db/mysite');
    assert.equal(redactDatabaseUrl(`mysql://root:${SECRET}@db/mysite`), 'mysql://root:***@db/mysite');
    assert.equal(redactDatabaseUrl(`app:${SECRET}@db/mysite`), 'app:***@db/mysite');
    assert.equal(redactDatabaseUrl('postgres://app@db/mysite'), 'postgres://app@db/mysite');
    assert.equal(redactDatabaseUrl('sqlite:///srv/db.sqlite3'), 'sqlite:///srv/db.sqlite3');
  });

  test('a relative sqlite URL is resolved against cwd in the loaded config', () => {
    const c = loadConfig({ env: { DATABASE_URL: 'sqlite://./db.sqlite3', DJANGO_LDAP_BASE_DN: 'dc=x' }, cwd: '/srv/my site' });
    assert.equal(c.database, 'sqlite:///srv/my site/db.sqlite3');
    assert.deepEqual(parseDatabaseUrl(c.database, '/elsewhere'), { kind: 'sqlite', path: '/srv/my site/db.sqlite3' });
  });

  test('a bad database URL is a loader problem too, naming its source and hiding the password', () => {
    const p = problemsOf(() => loadConfig({ env: { DATABASE_URL: `postgres://app:${SECRET}@localhost/db?sslmode=nope`, DJANGO_LDAP_BASE_DN: 'dc=x' } }));
    assert.deepEqual(p, ['database: invalid sslmode "nope" (expected disable, allow, prefer, require, verify-ca, verify-full) (from DATABASE_URL)']);
  });
});

describe('validation', () => {
  test('every problem is reported at once, each with its path', () => {
    const cfg = file('many.yaml', [
      'baseDn: example.com',
      'listen: [ "http://0.0.0.0:389", "ldap://localhost", "ldaps://0.0.0.0:636" ]',
      'serviceAccounts:',
      `  - { dn: "cn=apache,ou=services,dc=example,dc=com", password: "${SECRET}" }`,
      '  - { dn: "apache" }',
      'anonymous: { search: "no" }',
      'tree: { groups: Users, users: users, roles: "a,b" }',
      'users:',
      '  tabel: auth_user',
      '  table: 42',
      '  columns: { password: null, isActive: is_active, email: "e-mail", middleName: x }',
      '  groups: { table: g, colour: blue }',
      'groups: true',
      'log: { level: loud, format: xml }',
      'limits: { maxSearchEntries: 0, maxSearchSeconds: -1 }',
    ].join('\n'));
    const p = problemsOf(() => loadConfig({ env: { DATABASE_URL: 'sqlite:///x.sqlite3' }, flags: { config: cfg } }));
    const want = [
      'listen[0]: must match "^ldaps?://" (got "http://0.0.0.0:389")',
      `serviceAccounts[0].password: must be a Django password hash (algorithm$...), not plaintext`,
      'serviceAccounts[1].password: required',
      'anonymous.search: must be a boolean (true or false)',
      'tree.roles: must be a plain OU name (the value of ou=...), without , = + < > # ; \\ or " (got "a,b")',
      'users.tabel: unknown setting (did you mean "table"?)',
      'users.table: must be a string',
      'users.columns.middleName: unknown setting',
      'users.columns.password: may not be null: the bridge needs this column (must be a string)',
      'users.columns.email: must be a plain SQL identifier (letters, digits, _ and $, not starting with a digit) (got "e-mail")',
      'users.groups.colour: unknown setting',
      'groups: must be false or a mapping',
      'log.level: must be one of trace, debug, info, warn, error, fatal, silent (got "loud")',
      'log.format: must be one of json, pretty, auto (got "xml")',
      'limits.maxSearchEntries: must be >= 1 (got 0)',
      'limits.maxSearchSeconds: must be > 0 (got -1)',
      'baseDn: "example.com" is not a valid DN: expected \'=\' after attribute type "example", found "." at offset 7 (a DN is attribute=value pairs separated by commas, e.g. dc=example,dc=com)',
      'listen[1]: must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got "ldap://localhost")',
      'listen[2]: ldaps:// needs tls.cert and tls.key (PEM files); or listen on ldap://host:port (got "ldaps://0.0.0.0:636")',
      'serviceAccounts[1].dn: "apache" is not a valid DN: missing \'=\' after attribute type "apache" at offset 6 (a DN is attribute=value pairs separated by commas, e.g. dc=example,dc=com)',
      'tree.groups: "Users" is also tree.users; each OU must be different',
    ];
    assert.deepEqual([...p].sort(), [...want].sort(), p.join('\n'));
    assert.ok(!p.join('\n').includes(SECRET));
  });

  test('an unknown key is caught (users.tabel: unknown setting), with a suggestion', () => {
    const cfg = file('typo.yaml', 'database: sqlite:///x\nbaseDn: dc=x\nusers:\n  tabel: accounts_user\n');
    const p = problemsOf(() => loadConfig({ env: {}, flags: { config: cfg } }));
    assert.equal(p.length, 1);
    assert.match(p[0], /^users\.tabel: unknown setting/);
    const p2 = problemsOf(() => loadConfig({ env: {}, flags: { config: file('typo2.json', '{"database": "sqlite:///x", "base_dn": "dc=x"}') } }));
    assert.ok(p2.includes('base_dn: unknown setting (did you mean "baseDn"?)'), p2.join('\n'));
  });

  test('service account passwords must be Django hashes, never plaintext', () => {
    const load = (password) => loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_SERVICE_ACCOUNTS: JSON.stringify([{ dn: 'cn=svc,dc=example,dc=com', password }]) } });
    const msg = (password) => problemsOf(() => load(password))[0];
    assert.equal(msg(SECRET), 'serviceAccounts[0].password: must be a Django password hash (algorithm$...), not plaintext (from DJANGO_LDAP_SERVICE_ACCOUNTS)');
    const unknown = msg(`my$${SECRET}`);
    assert.match(unknown, /^serviceAccounts\[0\]\.password: must be a Django password hash \(algorithm\$\.\.\.\), not plaintext: it does not start with a known Django algorithm/);
    assert.ok(!unknown.includes(SECRET) && !unknown.includes('my$'));
    assert.match(msg('!abcdefghijklmnopqrstuvwxyz0123456789ABCD'), /unusable Django password/);
    assert.match(msg('pbkdf2_sha256$'), /must be a complete Django password hash/);
    assert.match(msg('pbkdf2_sha256$1000 $salt$hash'), /without spaces/);
    // Every Django hash format in the fixture (algorithm$...) is accepted.
    const vectors = JSON.parse(readFileSync(join(root, 'test/fixtures/django-hashers.json'), 'utf8'));
    const formats = vectors.filter((v) => v.valid && /^[a-z0-9_]+\$/.test(v.encoded));
    assert.ok(formats.length > 50);
    for (const v of formats) assert.equal(load(v.encoded).serviceAccounts[0].password, v.encoded, v.id);
  });

  test('service account DNs must be distinct', () => {
    const sas = [{ dn: 'cn=a,dc=x', password: HASH }, { dn: 'CN=A, DC=X', password: HASH }];
    const p = problemsOf(() => loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_SERVICE_ACCOUNTS: JSON.stringify(sas) } }));
    assert.deepEqual(p, ['serviceAccounts[1].dn: the same DN as serviceAccounts[0].dn (from DJANGO_LDAP_SERVICE_ACCOUNTS)']);
  });

  test('plausible DNs and listen URLs pass', () => {
    const c = loadConfig({
      env: { DATABASE_URL: 'sqlite:///x' },
      flags: { baseDn: 'o="Example, Inc.",c=US', listen: ['ldap://0.0.0.0:389', 'ldap://[::]:3389', 'ldap://ldap.example.com:0/'] },
    });
    assert.equal(c.tree.baseDn, 'o="Example, Inc.",c=US');
    assert.equal(c.listen.length, 3);
    const p = problemsOf(() => loadConfig({ env: { DATABASE_URL: 'sqlite:///x' }, flags: { baseDn: 'dc=example,,dc=com', listen: ['ldap://h:70000'] } }));
    assert.equal(p.length, 2);
    assert.match(p[0], /^baseDn: .* \(from --base-dn\)$/);
    assert.match(p[1], /^listen\[0\]: must be ldap:\/\/host:port .* \(from --listen\)$/);
  });

  test('the same listen address twice is caught', () => {
    const p = problemsOf(() => loadConfig({ env: { ...BASE_ENV, DJANGO_LDAP_LISTEN: 'ldap://h:1,ldap://h:1' } }));
    assert.deepEqual(p, ['listen: lists the same entry twice (entries 0 and 1) (from DJANGO_LDAP_LISTEN)']);
  });
});

describe('config files', () => {
  test('YAML and JSON files load the same settings', () => {
    const settings = {
      database: 'postgres://app@%2Fvar%2Frun%2Fpostgresql/mysite',
      baseDn: 'dc=example,dc=com',
      serviceAccounts: [{ dn: 'cn=apache,ou=services,dc=example,dc=com', password: HASH }],
      users: { table: 'accounts_user', usernameField: 'email', caseInsensitive: true, columns: { firstName: null, lastName: null } },
      permissions: false,
    };
    const y = file('site.yaml', [
      '# a comment',
      `database: ${settings.database}`,
      `baseDn: ${settings.baseDn}`,
      'serviceAccounts:',
      `  - dn: ${settings.serviceAccounts[0].dn}`,
      `    password: ${HASH}`,
      'users:',
      '  table: accounts_user',
      '  usernameField: email',
      '  caseInsensitive: true',
      '  columns: { firstName: null, lastName: ~ }',
      'permissions: false',
    ].join('\n'));
    const j = file('site.json', JSON.stringify(settings, null, 2));
    const fromYaml = loadConfig({ env: {}, flags: { config: y } });
    const fromJson = loadConfig({ env: {}, flags: { config: j } });
    assert.deepEqual(fromYaml, fromJson);
    const d = fromYaml.django;
    assert.equal(d.users.table, 'accounts_user');
    assert.equal(d.users.username, 'email');
    assert.equal(d.users.firstName, null);
    assert.equal(d.users.email, 'email');
    // Django names the M2M tables after the model's table.
    assert.deepEqual(d.userGroups, { table: 'accounts_user_groups', userColumn: 'user_id', otherColumn: 'group_id' });
    assert.equal(d.userPermissions, null, 'needs permissions');
    assert.equal(d.permissions, null);
    assert.equal(d.groups.permissions, null, 'needs permissions');
    assert.equal(fromYaml.caseInsensitiveUsernames, true);
  });

  test('an empty file is an empty mapping; a $schema key is allowed', () => {
    assert.doesNotThrow(() => loadConfig({ env: BASE_ENV, flags: { config: file('empty.yaml', '# nothing\n') } }));
    assert.doesNotThrow(() => loadConfig({ env: BASE_ENV, flags: { config: file('s.json', '{"$schema": "../schemas/config.schema.json"}') } }));
  });

  test('YAML syntax errors name the file and the line, without quoting it', () => {
    const p = problemsOf(() => loadConfig({ env: {}, flags: { config: file('broken.yaml', `baseDn: dc=x\ndatabase: postgres://a:${SECRET}@h/db\nlisten: [ldap://a:1\nlog: x\n`) } }));
    assert.ok(p.length >= 1);
    for (const l of p) assert.match(l, /^config file .*broken\.yaml: YAML error at line \d+, column \d+: /);
    assert.ok(!p.join('\n').includes(SECRET));
    const dup = problemsOf(() => loadConfig({ env: {}, flags: { config: file('dup.yaml', 'baseDn: dc=x\nusers:\n  table: a\n  table: b\n') } }));
    assert.match(dup[0], /dup\.yaml: YAML error at line 4, column 3: duplicate key "table"$/);
  });

  test('JSON syntax errors name the file and the line, without quoting it', () => {
    const p = problemsOf(() => loadConfig({ env: {}, flags: { config: file('broken.json', `{\n  "baseDn": "dc=x",\n  "database": ${SECRET}\n}`) } }));
    assert.equal(p.length, 1);
    assert.match(p[0], /broken\.json: invalid JSON at line 3, column 15: not a JSON value \(a string needs "double quotes"\)$/);
    assert.ok(!p[0].includes(SECRET));
    const dup = problemsOf(() => loadConfig({ env: {}, flags: { config: file('dup.json', '{"baseDn": "dc=x",\n "baseDn": "dc=y"}') } }));
    assert.match(dup[0], /dup\.json: invalid JSON at line 2, column 2: duplicate key "baseDn"/);
    const trunc = problemsOf(() => loadConfig({ env: {}, flags: { config: file('trunc.json', '{"baseDn": "dc=x",') } }));
    assert.match(trunc[0], /unexpected end of file/);
  });

  test('missing, unreadable, mistyped and non-mapping files are problems naming the file', () => {
    assert.match(problemsOf(() => loadConfig({ env: {}, flags: { config: join(dir, 'nope.yaml') } }))[0], /^config file .*nope\.yaml: not found/);
    assert.match(problemsOf(() => loadConfig({ env: {}, flags: { config: file('c.toml', 'x = 1') } }))[0], /^config file .*c\.toml: unsupported file type "\.toml" \(expected \.yaml, \.yml or \.json\)$/);
    assert.match(problemsOf(() => loadConfig({ env: {}, flags: { config: dir + '/sub.yaml' } }))[0], /not found/);
    assert.match(problemsOf(() => loadConfig({ env: {}, flags: { config: file('list.yaml', '- a\n- b\n') } }))[0], /list\.yaml: must hold a mapping of settings at the top level$/);
    const locked = file('locked.yaml', 'baseDn: dc=x\n');
    chmodSync(locked, 0o000);
    try {
      let readable = true;
      try {
        readFileSync(locked);
      } catch {
        readable = false;
      }
      if (!readable) assert.match(problemsOf(() => loadConfig({ env: {}, flags: { config: locked } }))[0], /locked\.yaml: cannot be read: permission denied/);
    } finally {
      chmodSync(locked, 0o644);
    }
  });

  test('docs/config.example.yaml loads and spells out the defaults', () => {
    const c = loadConfig({ env: {}, flags: { config: join(root, 'docs/config.example.yaml') } });
    assert.deepEqual(c.django, DEFAULT_DJANGO_MAPPING);
    assert.equal(c.tree.baseDn, 'dc=example,dc=com');
    assert.deepEqual(c.listen, ['ldap://127.0.0.1:3389']);
    assert.equal(c.serviceAccounts.length, 1);
    assert.deepEqual(c.log, { level: 'info', format: 'auto' });
    assert.deepEqual({ maxSearchEntries: c.limits.maxSearchEntries, maxSearchSeconds: c.limits.maxSearchSeconds, maxMessageBytes: c.limits.maxMessageBytes }, { maxSearchEntries: 100000, maxSearchSeconds: 60, maxMessageBytes: 262144 });
  });

  test('docs/config.example.yaml names every setting of the schema', () => {
    const schema = JSON.parse(readFileSync(join(root, 'schemas/config.schema.json'), 'utf8'));
    const example = YAML.parse(readFileSync(join(root, 'docs/config.example.yaml'), 'utf8'));
    const missing = [];
    const walk = (node, path, value) => {
      for (const [k, sub] of Object.entries(node.properties ?? {})) {
        if (k === '$schema') continue;
        const p = [...path, k];
        if (value === null || typeof value !== 'object' || !(k in value)) missing.push(p.join('.'));
        else if (value[k] !== null) walk(sub, p, value[k]);
      }
    };
    walk(schema, [], example);
    assert.deepEqual(missing, [], 'settings the example does not show');
  });

  test('the commented custom-user-model example in docs/config.example.yaml loads', () => {
    const text = readFileSync(join(root, 'docs/config.example.yaml'), 'utf8');
    const block = text.slice(text.indexOf('# users:\n'));
    const lines = [];
    for (const l of block.split('\n')) {
      if (!/^# ( |users:)/.test(l)) break;
      lines.push(l.slice(2));
    }
    const custom = file('custom.yaml', `${lines.join('\n')}\n`);
    const c = loadConfig({ env: BASE_ENV, flags: { config: custom } });
    assert.deepEqual(c.django.users, {
      ...DEFAULT_DJANGO_MAPPING.users, table: 'accounts_user', username: 'email', firstName: null, lastName: null,
    });
    assert.equal(c.django.userGroups.table, 'accounts_user_groups');
    assert.equal(c.django.userPermissions.table, 'accounts_user_user_permissions');
  });
});
