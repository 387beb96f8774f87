// The attribute tables (src/ldap/attributes.ts: users, groups, permissions, roles) agree with everything that reads them: the
// stores can filter on every column the planner pushes to SQL, every attribute an entry carries
// is a row and is described (and allowed by a class) in cn=Subschema, and the columns, their
// settings and defaults are the ones the config, its JSON schema and `doctor` name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  USER_ATTRIBUTES,
  GROUP_ATTRIBUTES,
  USER_COLUMNS,
  GROUP_COLUMNS,
  EXTRA_USER_COLUMNS,
  USER_CLASSES,
  GROUP_CLASSES,
  PERMISSION_ATTRIBUTES,
  ROLE_ATTRIBUTES,
  POSIX_USER_CLASSES,
  POSIX_GROUP_CLASSES,
  defaultUserColumns,
  keyOf,
} from '../../../dist/ldap/attributes.js';
import { ATTRIBUTE_TYPES, OBJECT_CLASSES, attributeKey, attributeType, subschemaValues } from '../../../dist/ldap/schema.js';
import { userEntry, groupEntry, permissionEntry, roleEntry, Selection } from '../../../dist/ldap/entries.js';
import { planUsers, planGroups } from '../../../dist/ldap/filter-plan.js';
import { parseFilter } from '../../../dist/ldap/filter.js';
import { BridgeContext } from '../../../dist/ldap/context.js';
import { Dit } from '../../../dist/ldap/dit.js';
import { SqlStore } from '../../../dist/db/sql-store.js';
import { mappedTables } from '../../../dist/django/mapping.js';
import { DEFAULT_DJANGO_MAPPING } from '../../../dist/config/load.js';

const dit = new Dit({ baseDn: 'dc=example,dc=com', usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services' }, false);
const user = { id: 7, username: 'alice', password: 'x', isActive: true, isStaff: true, isSuperuser: false, firstName: 'Alice', lastName: 'Liddell', email: 'alice@example.com', dateJoined: new Date('2021-03-01T12:34:56Z'), lastLogin: new Date('2024-01-02T03:04:05Z') };
const groups = [{ id: 2, name: 'dev' }];
const perms = [{ id: 3, appLabel: 'app', codename: 'run', name: 'Can run' }];
const noStatic = () => undefined;
const ALL = new Selection(['*', '+']);

/** Django's mapping, with a column named for each user column Django's User lacks. */
const MAPPING = { ...DEFAULT_DJANGO_MAPPING, users: { ...DEFAULT_DJANGO_MAPPING.users } };
for (const c of USER_COLUMNS) MAPPING.users[c.field] ??= `${c.field.toLowerCase()}_col`;

/** A value of each kind, for a user that has every column. */
const SAMPLE = { text: 'x', int: 1, bool: true, time: new Date(0), hash: '' };
const fullUser = { ...user, ...Object.fromEntries(EXTRA_USER_COLUMNS.map((c) => [c.field, SAMPLE[c.kind]])) };

/** The SQL a store sends, for a predicate (a store with no database: it records the text). */
function sqlOf(find) {
  const seen = [];
  class Recording extends SqlStore {
    kind = 'sqlite';
    async query(sql) {
      seen.push(sql);
      return [];
    }
    async close() {}
  }
  const store = new Recording(MAPPING, { param: () => '?', quote: (s) => `"${s}"`, likeIsCaseSensitive: false });
  return find(store).then(() => seen[0]);
}

const sqlRows = (rows) => rows.filter((r) => r.sql);

test('every attribute SQL filters on is a column the store reads, and the store filters on it', async () => {
  assert.ok(sqlRows(USER_ATTRIBUTES).length >= 7 && sqlRows(GROUP_ATTRIBUTES).length === 2);
  for (const r of sqlRows(USER_ATTRIBUTES)) {
    const name = r.type.names[0];
    assert.ok(USER_COLUMNS.includes(r.from.column), `${name}: its column is one of USER_COLUMNS`);
    assert.ok(['text', 'int', 'bool', 'time'].includes(r.from.column.kind), `${name}: a text, integer, boolean or time column`);
    // The planner makes a predicate on the row's field, and the store turns it into a WHERE on the
    // configured column (an unknown field would become 1=0: no row at all).
    const pred = planUsers(parseFilter(`(${name}=*)`), false, noStatic);
    assert.deepEqual(pred, { op: 'present', field: r.from.column.field }, name);
    const sql = await sqlOf((s) => s.findUsers(pred, { afterId: 0, limit: 1 }, false));
    const column = MAPPING.users[r.from.column.field];
    assert.match(sql, new RegExp(`WHERE \\(u\\."${column}" IS NOT NULL`), name);
  }
  for (const r of sqlRows(GROUP_ATTRIBUTES)) {
    const name = r.type.names[0];
    assert.ok(GROUP_COLUMNS.includes(r.from.column), name);
    const pred = planGroups(parseFilter(`(${name}=*)`), noStatic);
    assert.deepEqual(pred, { op: 'present', field: r.from.column.field }, name);
    const sql = await sqlOf((s) => s.findGroups(pred, { afterId: 0, limit: 1 }));
    assert.match(sql, new RegExp(`WHERE \\(g\\."${DEFAULT_DJANGO_MAPPING.groups[r.from.column.field]}" IS NOT NULL`), name);
  }
});

test('an attribute not marked for SQL is never pushed down: the store reads every candidate', () => {
  for (const r of USER_ATTRIBUTES.filter((x) => !x.sql)) {
    assert.deepEqual(planUsers(parseFilter(`(${r.type.names[0]}=x)`), false, noStatic), { op: 'all' }, r.type.names[0]);
  }
  for (const r of GROUP_ATTRIBUTES.filter((x) => !x.sql && x.type.names[0] !== 'objectClass')) {
    assert.deepEqual(planGroups(parseFilter(`(${r.type.names[0]}=x)`), noStatic), { op: 'all' }, r.type.names[0]);
  }
});

test('SQL compares case-insensitively exactly where the matching rule ignores case (uid: by the username setting)', () => {
  for (const r of sqlRows(USER_ATTRIBUTES).filter((x) => x.from.column.kind === 'text')) {
    const name = r.type.names[0];
    for (const usernamesCi of [false, true]) {
      const pred = planUsers(parseFilter(`(${name}=Ab)`), usernamesCi, noStatic);
      const ci = r.usernameCase ? usernamesCi : r.type.equality === 'caseIgnore';
      assert.equal(pred.ci, ci, `${name}, usernames case-insensitive: ${usernamesCi}`);
    }
  }
});

test('the rows whose equality follows the username setting are the ones the server swaps', () => {
  const keys = [...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES].map((r) => keyOf(r));
  for (const ci of [false, true]) {
    const ctx = Object.create(BridgeContext.prototype, { config: { value: { caseInsensitiveUsernames: ci } } });
    for (const r of [...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES]) {
      const want = r.usernameCase ? (ci ? 'caseIgnore' : 'caseExact') : r.type.equality;
      assert.equal(ctx.equalityOf(keyOf(r)), want, `${keyOf(r)} (caseInsensitive ${ci})`);
    }
  }
  assert.ok(keys.includes('uid') && keys.includes('memberuid'));
});

/** The classes an entry's objectClass names, with their superclasses. */
function allowedBy(classes) {
  const allowed = new Set();
  for (const name of classes) {
    const oc = OBJECT_CLASSES.find((c) => c.name === name);
    assert.ok(oc, `object class ${name} is in the schema`);
    for (const a of [...oc.must, ...oc.may]) allowed.add(attributeKey(a));
  }
  return allowed;
}

test('every attribute of a built user or group entry is a row, a type of cn=Subschema and allowed by its classes', () => {
  const { attributeTypes } = subschemaValues();
  const described = (at) => attributeTypes.some((d) => d.startsWith(`( ${at.oid} NAME `));
  // With posix on, so that the POSIX rows are served too.
  const posix = { uidBase: 2000000, gidBase: 1000000, primaryGroup: 'private', homeDirectory: '/home/{uid}', loginShell: '/bin/bash' };
  const cases = [
    ['user', userEntry(dit, fullUser, { groups, permissions: perms, roles: ['staff'], posix, sshKeys: ['ssh-ed25519 AAAAkey a@b'] }), USER_ATTRIBUTES, POSIX_USER_CLASSES],
    ['group', groupEntry(dit, groups[0], ['alice'], perms, posix), GROUP_ATTRIBUTES, POSIX_GROUP_CLASSES],
  ];
  // Without it, an entry has no POSIX class and none of their attributes.
  const plain = userEntry(dit, fullUser, { groups, permissions: perms, roles: ['staff'] }).select(ALL);
  assert.deepEqual(plain.find(([n]) => n === 'objectClass')[1], USER_CLASSES);
  for (const a of ['uidNumber', 'gidNumber', 'homeDirectory', 'loginShell', 'gecos']) assert.ok(!plain.some(([n]) => n === a), a);
  assert.ok(!groupEntry(dit, groups[0], ['alice'], perms).select(ALL).some(([n]) => n === 'gidNumber'));
  for (const [kind, entry, rows, classes] of cases) {
    const sent = entry.select(ALL);
    const keys = sent.map(([name]) => attributeKey(name));
    // Every row is served for a full row (the fake user has every column).
    for (const r of rows) assert.ok(keys.includes(keyOf(r)), `${kind} entry has ${r.type.names[0]}`);
    const allowed = allowedBy(classes);
    for (const [name] of sent) {
      const at = attributeType(name);
      assert.ok(at && described(at), `${kind}: ${name} is described in cn=Subschema`);
      if (at.operational) continue;
      assert.ok(rows.some((r) => r.type === at), `${kind}: ${name} is a row of the ${kind} table`);
      assert.ok(allowed.has(attributeKey(name)), `${kind}: ${name} is allowed by ${classes.join(', ')}`);
    }
  }
  // Permission and role entries have tables of their own, served as groups.
  for (const [e, rows] of [[permissionEntry(dit, perms[0], ['alice']), PERMISSION_ATTRIBUTES], [roleEntry(dit, 'staff', ['alice']), ROLE_ATTRIBUTES]]) {
    const allowed = allowedBy(GROUP_CLASSES);
    const sent = e.select(ALL);
    for (const r of rows) assert.ok(sent.some(([name]) => attributeKey(name) === keyOf(r)), `${e.dn} has ${r.type.names[0]}`);
    for (const [name] of sent) {
      const at = attributeType(name);
      assert.ok(at && described(at), name);
      if (at.operational) continue;
      assert.ok(rows.some((r) => r.type === at), `${e.dn}: ${name} is a row of its table`);
      assert.ok(allowed.has(attributeKey(name)), `${e.dn}: ${name}`);
    }
  }
});

test('no two attribute types share an OID or a name, and each is listed once', () => {
  const seen = new Map();
  for (const at of ATTRIBUTE_TYPES) {
    for (const id of [at.oid, ...at.names.map((n) => n.toLowerCase())]) {
      assert.ok(!seen.has(id), `${id} is defined twice (${seen.get(id)?.names[0]} and ${at.names[0]})`);
      seen.set(id, at);
    }
  }
  for (const r of [...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES, ...PERMISSION_ATTRIBUTES, ...ROLE_ATTRIBUTES]) assert.equal(attributeType(r.type.oid), r.type, r.type.names[0]);
});

test('the user columns: unique fields, settings and SQL-safe default names; the config defaults agree', async () => {
  const unique = (xs, what) => assert.equal(new Set(xs).size, xs.length, `${what} are unique`);
  unique(USER_COLUMNS.map((c) => c.field), 'fields');
  unique(USER_COLUMNS.map((c) => c.setting), 'settings');
  unique(USER_COLUMNS.map((c) => c.default).filter((d) => d !== null), 'defaults');
  for (const c of USER_COLUMNS) {
    if (c.default === null) assert.ok(c.optional, `${c.field}: a column Django's User lacks is optional`);
    else assert.match(c.default, /^[a-z_][a-z0-9_]*$/, c.field);
  }
  // Django's own User fields first, in the order the config file has always listed them.
  assert.deepEqual(
    USER_COLUMNS.slice(0, 11).map((c) => c.field),
    ['id', 'username', 'password', 'isActive', 'isStaff', 'isSuperuser', 'firstName', 'lastName', 'email', 'dateJoined', 'lastLogin'],
  );
  assert.deepEqual(EXTRA_USER_COLUMNS, USER_COLUMNS.slice(11));
  const { table, ...columns } = DEFAULT_DJANGO_MAPPING.users;
  assert.equal(table, 'auth_user');
  assert.deepEqual(columns, defaultUserColumns());
  assert.deepEqual(
    USER_COLUMNS.filter((c) => !c.optional).map((c) => c.field),
    ['id', 'username', 'password', 'isActive'],
  );
  // The store reads each column under a name of its own, unquoted.
  const sql = await sqlOf((s) => s.findUsers({ op: 'all' }, { afterId: 0, limit: 1 }, false, true));
  const aliases = [...sql.matchAll(/ AS ([^,\s]+)/g)].map((m) => m[1]);
  assert.equal(aliases.length, USER_COLUMNS.length);
  unique(aliases, 'the aliases of the columns');
  for (const a of aliases) assert.match(a, /^[a-z_][a-z0-9_]*$/);
});

test('schemas/config.schema.json documents each user column with the same default, nullable only when optional', () => {
  const schema = JSON.parse(readFileSync(new URL('../../../schemas/config.schema.json', import.meta.url), 'utf8'));
  const users = schema.properties.users.properties;
  for (const c of USER_COLUMNS) {
    const path = c.setting.split('.');
    assert.equal(path[0], 'users', c.setting);
    const prop = path.length === 3 ? users[path[1]].properties[path[2]] : users[path[1]];
    assert.ok(prop, `${c.setting} is in the config schema`);
    assert.equal(prop.default, c.default, c.setting);
    assert.equal([prop.type].flat().includes('null'), c.optional, `${c.setting} may be null`);
  }
  const groups = schema.properties.groups.anyOf[1].properties;
  for (const c of GROUP_COLUMNS) assert.equal(groups[c.setting.split('.')[1]].default, c.default, c.setting);
});

test('doctor and the start-up check list every column with its setting and what it feeds', () => {
  const [users, , groupsTable] = mappedTables(DEFAULT_DJANGO_MAPPING);
  assert.deepEqual(users.columns.map((c) => c.setting), USER_COLUMNS.map((c) => c.setting));
  assert.deepEqual(users.columns.map((c) => c.column), USER_COLUMNS.map((c) => c.default));
  assert.deepEqual(
    users.columns.slice(0, 11).map((c) => c.attribute),
    ['djangoId', 'uid', '(password: checked, never served)', 'djangoIsActive', 'djangoIsStaff, cn=staff', 'djangoIsSuperuser, cn=superusers', 'givenName, cn', 'sn, cn', 'mail', 'djangoDateJoined, createTimestamp', 'djangoLastLogin'],
  );
  // A column a row adds feeds that row's attribute.
  for (const [i, c] of EXTRA_USER_COLUMNS.entries()) {
    assert.equal(users.columns[11 + i].attribute, USER_ATTRIBUTES.find((r) => r.from.column === c).type.names[0]);
  }
  assert.deepEqual(groupsTable.columns, [
    { attribute: 'djangoId', setting: 'groups.id', column: 'id' },
    { attribute: 'cn', setting: 'groups.name', column: 'name' },
  ]);
  // A column the model lacks is listed as unmapped (null), not left out.
  const noNames = { ...DEFAULT_DJANGO_MAPPING, users: { ...DEFAULT_DJANGO_MAPPING.users, firstName: null } };
  assert.equal(mappedTables(noNames)[0].columns.find((c) => c.setting === 'users.columns.firstName').column, null);
});

test('a column the model lacks is not served: the entry has no such attribute', () => {
  for (const r of USER_ATTRIBUTES.filter((x) => 'column' in x.from && x.from.column.optional)) {
    const e = userEntry(dit, { ...fullUser, [r.from.column.field]: null }, {});
    assert.equal(e.get(keyOf(r)), undefined, r.type.names[0]);
  }
});

test('createTimestamp: date_joined as GeneralizedTime, operational (sent for + or by name), declared with modifyTimestamp', () => {
  const ct = (sel) => userEntry(dit, user, {}).select(new Selection(sel)).find(([n]) => n === 'createTimestamp')?.[1];
  assert.deepEqual(ct(['+']), ['20210301123456Z']);
  assert.deepEqual(ct(['createtimestamp']), ['20210301123456Z']);
  assert.equal(ct(['*']), undefined);
  assert.equal(ct([]), undefined);
  assert.equal(userEntry(dit, { ...user, dateJoined: null }, {}).get('createtimestamp'), undefined);
  // Filters on it go to SQL on date_joined (the range test/unit/ldap/filter-plan.test.js runs).
  assert.deepEqual(planUsers(parseFilter('(createTimestamp=*)'), false, noStatic), { op: 'present', field: 'dateJoined' });
  // ldap3's Server(get_info=ALL) wants both types in the subschema; modifyTimestamp is not served
  // (Django keeps no modification time).
  const { attributeTypes } = subschemaValues();
  for (const [oid, name] of [['2.5.18.1', 'createTimestamp'], ['2.5.18.2', 'modifyTimestamp']]) {
    const d = attributeTypes.find((x) => x.startsWith(`( ${oid} NAME '${name}' `));
    assert.ok(d, name);
    assert.match(d, / EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1\.3\.6\.1\.4\.1\.1466\.115\.121\.1\.24 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation \)$/, name);
  }
  assert.equal(userEntry(dit, user, {}).get('modifytimestamp'), undefined);
});
