// A compare on an entry that does not exist answers noSuchObject with the entry that does
// exist above it (RFC 4511 §4.1.9): the entry's own container, as the tree names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../../fakes/memory-store.js';
import { BASE, dispatchOnce, testContext, testSession } from '../../fakes/ldap-context.js';

const SERVICE = { kind: 'service', dn: `cn=apache,ou=services,${BASE}` };
const tree = { usersOu: 'people', groupsOu: 'teams', permissionsOu: 'perms', rolesOu: 'jobs' };
const ALICE_DN = `uid=alice,ou=people,${BASE}`;

test('a missing user, group, permission or role: matchedDN is its own container, whatever the attribute', async () => {
  const store = new MemoryStore({
    users: [user(1, 'alice', { isStaff: true })],
    groups: [{ id: 1, name: 'team' }],
    permissions: [{ id: 1, appLabel: 'svn', codename: 'commit', name: 'Can commit' }],
    groupPermissions: [[1, 1]],
  });
  const { ctx } = testContext(store, { tree });
  const s = testSession(SERVICE);
  const compare = async (entry, attribute, value) => {
    const [r] = await dispatchOnce(ctx, s, { op: 'compare', entry, attribute, value });
    return [r.code, r.matchedDN];
  };
  const missing = {
    users: [`uid=nobody,ou=people,${BASE}`, `ou=people,${BASE}`],
    groups: [`cn=nobody,ou=teams,${BASE}`, `ou=teams,${BASE}`],
    permissions: [`cn=svn.nothing,ou=perms,${BASE}`, `ou=perms,${BASE}`],
    roles: [`cn=nobody,ou=jobs,${BASE}`, `ou=jobs,${BASE}`],
  };
  for (const [kind, [dn, container]] of Object.entries(missing)) {
    for (const [attribute, value] of [['cn', 'x'], ['objectClass', 'top'], ['member', ALICE_DN], ['memberUid', 'alice'], ['uniqueMember', ALICE_DN], ['description', 'x']]) {
      assert.deepEqual(await compare(dn, attribute, value), [32, container], `${kind} ${attribute}`);
    }
  }
  // The entries that do exist answer as before.
  assert.deepEqual(await compare(`cn=svn.commit,ou=perms,${BASE}`, 'cn', 'svn.commit'), [6, '']);
  assert.deepEqual(await compare(`cn=staff,ou=jobs,${BASE}`, 'memberUid', 'alice'), [6, '']);
  assert.deepEqual(await compare(`cn=team,ou=teams,${BASE}`, 'uniqueMember', ALICE_DN), [16, '']);
});
