// src/ldap/ops/read-entries.ts: a search loads a user's groups, permissions and roles, or a
// group's members, only when it selects or filters on an attribute that shows them; which
// attribute needs which load is the `loads` of its row in the attribute table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../../fakes/memory-store.js';
import { BASE, dispatchOnce, searchRequest, testContext, testSession } from '../../fakes/ldap-context.js';
import { needsOf } from '../../../../dist/ldap/ops/read-entries.js';
import { Selection } from '../../../../dist/ldap/entries.js';
import { LOADS, USER_ATTRIBUTES, GROUP_ATTRIBUTES, keyOf } from '../../../../dist/ldap/attributes.js';

const SERVICE = { kind: 'service', dn: `cn=apache,ou=services,${BASE}` };

function store() {
  return new MemoryStore({
    users: [user(1, 'alice', { isStaff: true })],
    groups: [{ id: 1, name: 'team' }],
    permissions: [{ id: 1, appLabel: 'svn', codename: 'commit', name: 'Can commit' }],
    memberships: [[1, 1]],
    groupPermissions: [[1, 1]],
  });
}

/** The attributes of the one entry a base search of `dn` returns, asking for `attributes`. */
async function read(dn, attributes, filter = '(objectClass=*)') {
  const { ctx } = testContext(store());
  const replies = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(dn, filter, { scope: 0, attributes }));
  assert.equal(replies.at(-1).code, 0, `search of ${dn} ${filter}`);
  return replies.filter((r) => r.dn !== undefined).map((r) => r.attributes);
}

test('every membership attribute is a row with loads, and selecting it loads exactly those', () => {
  const related = [...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES].filter((r) => 'related' in r.from);
  assert.deepEqual([...LOADS.keys()].sort(), [...new Set(related.map(keyOf))].sort());
  for (const [key, loads] of LOADS) {
    const needs = needsOf(new Selection([key]), new Set());
    for (const l of ['memberOf', 'permissions', 'members']) assert.equal(needs[l], loads.includes(l), `${key}: ${l}`);
    // A filter on it loads the same, whatever is selected.
    const viaFilter = needsOf(new Selection(['uid']), new Set([key]));
    for (const l of loads) assert.equal(viaFilter[l], true, `filter on ${key}: ${l}`);
  }
  // Apache's search: no membership to load, and only uid and mail to build.
  const { userAttrs, ...loads } = needsOf(new Selection(['uid', 'mail']), new Set(['objectclass', 'uid']));
  assert.deepEqual(loads, { memberOf: false, permissions: false, members: false });
  assert.deepEqual(['uid', 'mail', 'cn', 'memberof'].map(userAttrs), [true, true, false, false]);
});

test('a search sees the memberships it asks for, and none it does not ask for', async () => {
  const alice = `uid=alice,ou=users,${BASE}`;
  const team = `cn=team,ou=groups,${BASE}`;
  const [withMemberOf] = await read(alice, ['memberOf']);
  assert.deepEqual(withMemberOf.memberOf.sort(), [`cn=staff,ou=roles,${BASE}`, `cn=svn.commit,ou=permissions,${BASE}`, team].sort());
  const [withPerms] = await read(alice, ['djangoPermission']);
  assert.deepEqual(withPerms, { djangoPermission: ['svn.commit'] });
  const [plain] = await read(alice, ['uid']);
  assert.deepEqual(plain, { uid: ['alice'] });
  // A filter on memberOf is decided on loaded memberships, though memberOf is not returned.
  assert.deepEqual(await read(alice, ['uid'], `(memberOf=${team})`), [{ uid: ['alice'] }]);
  assert.deepEqual(await read(alice, ['uid'], `(memberOf=cn=other,ou=groups,${BASE})`), []);
  const [group] = await read(team, ['memberUid', 'member']);
  assert.deepEqual(group, { member: [alice], memberUid: ['alice'] });
  const [groupPlain] = await read(team, ['cn']);
  assert.deepEqual(groupPlain, { cn: ['team'] });
});
