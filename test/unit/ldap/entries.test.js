// Entries built from model objects (src/ldap/entries.ts): the attributes, values and order a
// client reads for a user, a group, a permission and a role, what a selection builds, and the
// operational attributes computed only when asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Entry, Selection, userEntry, groupEntry, permissionEntry, roleEntry, GENERALIZED_TIME } from '../../../dist/ldap/entries.js';
import { Dit } from '../../../dist/ldap/dit.js';
import { USER_ATTRIBUTES } from '../../../dist/ldap/attributes.js';

const dit = new Dit({ baseDn: 'dc=example,dc=com', usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services' }, false);
const alice = {
  id: 7,
  username: 'alice',
  password: 'pbkdf2_sha256$never$served',
  isActive: true,
  isStaff: false,
  isSuperuser: true,
  firstName: ' Alice ',
  lastName: 'Liddell',
  email: 'Alice@Example.com',
  dateJoined: new Date('2021-03-01T12:34:56.789Z'),
  lastLogin: null,
};
const bare = { id: 8, username: 'bob', password: '', isActive: false, isStaff: null, isSuperuser: null, firstName: null, lastName: '  ', email: '', dateJoined: null, lastLogin: null };
const groups = [{ id: 2, name: 'dev' }, { id: 3, name: 'Smith, John' }];
const perms = [{ id: 4, appLabel: 'svn', codename: 'commit', name: 'Can commit' }];
const ALL = new Selection(['*', '+']);
const USER = new Selection([]);
const sent = (e, sel = USER) => Object.fromEntries(e.select(sel));

test('a user entry: its names, mail, Django fields and memberships, in this order', () => {
  const e = userEntry(dit, alice, { groups, permissions: perms, roles: ['superusers'] });
  assert.equal(e.dn, 'uid=alice,ou=users,dc=example,dc=com');
  assert.deepEqual(e.select(USER), [
    ['objectClass', ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'djangoAccount']],
    ['uid', ['alice']],
    ['cn', ['Alice Liddell']],
    ['sn', ['Liddell']],
    ['givenName', ['Alice']],
    ['displayName', ['Alice Liddell']],
    ['mail', ['Alice@Example.com']],
    ['djangoId', ['7']],
    ['djangoIsActive', ['TRUE']],
    ['djangoIsStaff', ['FALSE']],
    ['djangoIsSuperuser', ['TRUE']],
    ['djangoDateJoined', ['20210301123456Z']],
    [
      'memberOf',
      ['cn=dev,ou=groups,dc=example,dc=com', 'cn=Smith\\, John,ou=groups,dc=example,dc=com', 'cn=svn.commit,ou=permissions,dc=example,dc=com', 'cn=superusers,ou=roles,dc=example,dc=com'],
    ],
    ['djangoPermission', ['svn.commit']],
  ]);
  assert.ok(!JSON.stringify(e.select(ALL)).includes('pbkdf2'), 'the password hash is never an attribute');
});

test('a user without names, mail or flags: cn, sn and displayName fall back to the username; nothing empty is served', () => {
  const attrs = sent(userEntry(dit, bare, {}));
  assert.deepEqual(attrs, {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'djangoAccount'],
    uid: ['bob'],
    cn: ['bob'],
    sn: ['bob'],
    displayName: ['bob'],
    djangoId: ['8'],
    djangoIsActive: ['FALSE'],
  });
  // Only a first name: cn is that name alone, sn still the username.
  const first = sent(userEntry(dit, { ...bare, firstName: 'Bob' }, {}));
  assert.deepEqual([first.cn, first.sn, first.givenName], [['Bob'], ['bob'], ['Bob']]);
});

test('memberOf and djangoPermission come only from what was loaded; an empty membership list is no attribute', () => {
  assert.equal(userEntry(dit, alice, {}).get('memberof'), undefined);
  assert.equal(userEntry(dit, alice, {}).get('djangopermission'), undefined);
  assert.equal(userEntry(dit, alice, { groups: [], permissions: [], roles: [] }).get('memberof'), undefined);
  assert.deepEqual(userEntry(dit, alice, { roles: ['staff'] }).get('memberof'), ['cn=staff,ou=roles,dc=example,dc=com']);
});

test('only the attributes a search selects or filters on are built (objectClass always)', () => {
  const asked = [];
  const e = userEntry(dit, alice, {
    only: (k) => {
      asked.push(k);
      return k === 'mail' || k === 'sn';
    },
    groups,
  });
  assert.deepEqual(e.select(USER).map(([n]) => n), ['objectClass', 'sn', 'mail']);
  // Each attribute but objectClass is asked about once, by its lower-case key.
  assert.deepEqual(asked, USER_ATTRIBUTES.slice(1).map((r) => r.type.names[0].toLowerCase()));
  for (const k of ['uid', 'cn', 'givenname', 'displayname', 'djangoid', 'djangodatejoined', 'memberof', 'djangopermission']) assert.ok(asked.includes(k), k);
});

test('operational attributes are sent only when asked for, and entryUUID is stable per object', () => {
  const e = userEntry(dit, alice, {});
  assert.ok(!e.select(USER).some(([n]) => n === 'entryUUID'));
  const op = sent(userEntry(dit, alice, {}), new Selection(['+']));
  // createTimestamp is date_joined; alice joined in the fixture.
  assert.deepEqual(Object.keys(op), ['createTimestamp', 'entryUUID', 'entryDN', 'subschemaSubentry', 'hasSubordinates']);
  assert.match(op.entryUUID[0], /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(sent(userEntry(dit, { ...alice, username: 'renamed' }, {}), new Selection(['entryUUID'])).entryUUID, op.entryUUID, 'the UUID follows the id, not the name');
  assert.notDeepEqual(sent(userEntry(dit, bare, {}), new Selection(['entryUUID'])).entryUUID, op.entryUUID);
  assert.deepEqual([op.entryDN, op.subschemaSubentry, op.hasSubordinates], [[e.dn], ['cn=Subschema'], ['FALSE']]);
  // A filter reads one without any selection.
  assert.deepEqual(userEntry(dit, alice, {}).get('entrydn'), [e.dn]);
});

test('a selection: names in any case or by alias, * for user attributes, + for operational, 1.1 for none', () => {
  const e = userEntry(dit, alice, {});
  assert.deepEqual(e.select(new Selection(['MAIL', 'commonName'])).map(([n]) => n), ['cn', 'mail']);
  assert.deepEqual(e.select(new Selection(['1.1'])), []);
  assert.ok(e.select(new Selection(['*'])).every(([n]) => n !== 'entryDN'));
  assert.deepEqual(e.select(new Selection(['uid', '+'])).map(([n]) => n), ['uid', 'createTimestamp', 'entryUUID', 'entryDN', 'subschemaSubentry', 'hasSubordinates']);
});

test('a group entry: cn, djangoId, its members as DNs and as usernames, its permissions', () => {
  const e = groupEntry(dit, groups[1], ['alice', 'Bob'], perms);
  assert.equal(e.dn, 'cn=Smith\\, John,ou=groups,dc=example,dc=com');
  assert.deepEqual(e.select(USER), [
    ['objectClass', ['top', 'groupOfNames', 'djangoGroup']],
    ['cn', ['Smith, John']],
    ['djangoId', ['3']],
    ['member', ['uid=alice,ou=users,dc=example,dc=com', 'uid=Bob,ou=users,dc=example,dc=com']],
    ['memberUid', ['alice', 'Bob']],
    ['djangoPermission', ['svn.commit']],
  ]);
  // Members and permissions not loaded (the search did not need them): not served.
  assert.deepEqual(Object.keys(sent(groupEntry(dit, groups[0], undefined, undefined))), ['objectClass', 'cn', 'djangoId']);
  assert.deepEqual(Object.keys(sent(groupEntry(dit, groups[0], [], []))), ['objectClass', 'cn', 'djangoId']);
});

test('permission and role entries are groups of the users who hold them', () => {
  assert.deepEqual(permissionEntry(dit, perms[0], ['alice']).select(USER), [
    ['objectClass', ['top', 'groupOfNames', 'djangoGroup']],
    ['cn', ['svn.commit']],
    ['description', ['Can commit']],
    ['djangoId', ['4']],
    ['djangoPermission', ['svn.commit']],
    ['member', ['uid=alice,ou=users,dc=example,dc=com']],
    ['memberUid', ['alice']],
  ]);
  assert.deepEqual(sent(roleEntry(dit, 'staff', undefined)), {
    objectClass: ['top', 'groupOfNames', 'djangoGroup'],
    cn: ['staff'],
    description: ['Active Django users with is_staff'],
  });
});

test('an Entry keeps the schema name, looks up by key, and drops empty values', () => {
  const e = new Entry('cn=x').set('CN', ['a', '', null, undefined, 'b']).set('mail', []).set('description', [null]);
  assert.deepEqual(e.select(USER), [['CN', ['a', 'b']]]);
  assert.deepEqual(e.get('cn'), ['a', 'b']);
  assert.equal(e.has('mail'), false);
  assert.equal(GENERALIZED_TIME(new Date('1999-12-31T23:59:59.999Z')), '19991231235959Z');
});
