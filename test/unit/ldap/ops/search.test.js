// A search over the whole tree reads a permission's or role's holders (a query over every user:
// superusers hold every permission and is_superuser has no index) only for an entry the filter
// can still match. `(uid=alice)` from the base, all attributes, as a client such as ldapsearch
// sends it, cost one such scan per permission at 300,000 users (issue #14's adversarial re-run);
// the entries a search returns must stay the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../../fakes/memory-store.js';
import { BASE, dispatchOnce, searchRequest, testContext, testSession } from '../../fakes/ldap-context.js';

const SERVICE = { kind: 'service', dn: `cn=apache,ou=services,${BASE}` };

function site() {
  const store = new MemoryStore({
    users: [user(1, 'alice', { isStaff: true }), user(2, 'bob'), user(3, 'root', { isSuperuser: true })],
    groups: [{ id: 1, name: 'committers' }],
    permissions: [
      { id: 1, appLabel: 'svn', codename: 'commit_repo', name: 'Can commit' },
      { id: 2, appLabel: 'svn', codename: 'read_repo', name: 'Can read' },
    ],
    memberships: [[1, 1]],
    groupPermissions: [[1, 1]],
  });
  const reads = { holders: 0, userPages: 0 };
  const holders = store.permissionHolders.bind(store);
  store.permissionHolders = (...a) => (reads.holders++, holders(...a));
  const findUsers = store.findUsers.bind(store);
  store.findUsers = (...a) => (reads.userPages++, findUsers(...a));
  return { store, reads };
}

async function search(filter) {
  const { store, reads } = site();
  const { ctx } = testContext(store);
  const replies = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(BASE, filter));
  const done = replies.at(-1);
  assert.equal(done.code, 0, `${filter}: ${done.message}`);
  const entries = Object.fromEntries(replies.filter((r) => r.tag === 0x64).map((r) => [r.dn, r.attributes]));
  return { entries, reads };
}

test('(uid=alice) over the whole tree: alice alone, and no holders of any permission or role read', async () => {
  const { entries, reads } = await search('(uid=alice)');
  assert.deepEqual(Object.keys(entries), [`uid=alice,ou=users,${BASE}`]);
  assert.equal(reads.holders, 0, 'permission holders read');
  assert.equal(reads.userPages, 1, 'only the users container read users (roles read none)');
});

test('filters on members still find the permissions and roles that hold the user, with their members', async () => {
  const { entries, reads } = await search(`(member=uid=alice,ou=users,${BASE})`);
  assert.deepEqual(Object.keys(entries).sort(), [`cn=committers,ou=groups,${BASE}`, `cn=staff,ou=roles,${BASE}`, `cn=svn.commit_repo,ou=permissions,${BASE}`].sort());
  assert.deepEqual(entries[`cn=svn.commit_repo,ou=permissions,${BASE}`].memberUid.sort(), ['alice', 'root']);
  assert.equal(reads.holders, 2, 'every permission may hold alice: both read');
});

test('a filter that may match through another attribute, or through a negation, still returns the entry', async () => {
  const either = await search('(|(uid=alice)(cn=svn.read_repo))');
  assert.deepEqual(Object.keys(either.entries).sort(), [`cn=svn.read_repo,ou=permissions,${BASE}`, `uid=alice,ou=users,${BASE}`].sort());
  assert.deepEqual(either.entries[`cn=svn.read_repo,ou=permissions,${BASE}`].memberUid, ['root'], 'its holders are still served');
  assert.equal(either.reads.holders, 1, 'only the permission the filter can match');

  const not = await search('(&(objectClass=groupOfNames)(!(memberUid=bob)))');
  assert.ok(`cn=svn.commit_repo,ou=permissions,${BASE}` in not.entries);
  assert.ok(`cn=superusers,ou=roles,${BASE}` in not.entries);
  assert.ok(!(`cn=staff,ou=roles,${BASE}` in not.entries) || !not.entries[`cn=staff,ou=roles,${BASE}`].memberUid.includes('bob'));
});
