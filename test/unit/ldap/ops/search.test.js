// A search over the whole tree reads a permission's or role's holders (a query over every user:
// superusers hold every permission and is_superuser has no index) only for an entry the filter
// can still match. `(uid=alice)` from the base, all attributes, as a client such as ldapsearch
// sends it, cost one such scan per permission at 300,000 users (issue #14's adversarial re-run);
// the entries a search returns must stay the same. A filter naming a member,
// `(member=<alice's DN>)` or `(memberUid=alice)`, reads alice's own permissions and roles
// instead of every permission's holders.
import { test, describe } from 'node:test';
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
  const reads = { holders: 0, userPages: 0, calls: [] };
  // Every question the directory asks the store (the port's methods), by name.
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    if (name === 'constructor' || name === 'query' || name === 'heldBy' || typeof store[name] !== 'function') continue;
    const method = store[name].bind(store);
    store[name] = (...a) => (reads.calls.push(name), method(...a));
  }
  const holders = store.permissionHolders;
  store.permissionHolders = (...a) => (reads.holders++, holders(...a));
  const findUsers = store.findUsers;
  store.findUsers = (...a) => (reads.userPages++, findUsers(...a));
  return { store, reads };
}

async function search(filter, { base = BASE, attributes = [] } = {}) {
  const { store, reads } = site();
  const { ctx } = testContext(store);
  const replies = await dispatchOnce(ctx, testSession(SERVICE), searchRequest(base, filter, { attributes }));
  const done = replies.at(-1);
  assert.equal(done.code, 0, `${filter}: ${done.message}`);
  const entries = Object.fromEntries(replies.filter((r) => r.tag === 0x64).map((r) => [r.dn, r.attributes]));
  return { entries, reads };
}

/** The filter with every member and memberUid equality written as an approximate match, which
 * this bridge matches as equality: the path that reads every permission's and role's holders. */
const readingHolders = (filter) => filter.replace(/\((member|memberUid)=/g, '($1~=');

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
  assert.equal(reads.holders, 1, 'only the permission alice holds has its holders read (its members are asked for)');
  assert.equal(reads.userPages, 1, 'only the role alice holds (staff) has its members read');
});

describe('a filter naming a member reads that user’s permissions and roles, not every holder', () => {
  const ALICE = `uid=alice,ou=users,${BASE}`;
  test('(member=<alice>) from the base, for cn: one lookup of alice and of her permissions; no holders, no scan of users', async () => {
    const { entries, reads } = await search(`(&(objectClass=groupOfNames)(member=${ALICE}))`, { attributes: ['cn'] });
    assert.deepEqual(Object.keys(entries).sort(), [`cn=committers,ou=groups,${BASE}`, `cn=staff,ou=roles,${BASE}`, `cn=svn.commit_repo,ou=permissions,${BASE}`].sort());
    assert.equal(reads.holders, 0, 'no permission holders read');
    assert.equal(reads.userPages, 0, 'no role members (a scan of users) read');
    assert.equal(reads.calls.filter((c) => c === 'permissionIdsOfUsers').length, 1, "alice's permissions read once");
    assert.deepEqual(new Set(reads.calls), new Set(['usersByUsername', 'groupIdsOfUsers', 'groupsByIds', 'findGroups', 'allPermissions', 'permissionIdsOfUsers']), `store calls: ${reads.calls}`);
    assert.ok(!reads.calls.includes('groupMembers'), 'no group had its members read (initgroups at a million users: a group may list 100,000)');

    const old = await search(readingHolders(`(&(objectClass=groupOfNames)(member=${ALICE}))`), { attributes: ['cn'] });
    assert.deepEqual(old.entries, entries, 'the same entries as reading every holder');
    assert.equal(old.reads.holders, 2, 'which reads each permission’s holders');
  });

  test('initgroups on ou=groups, (&(memberUid=U)(objectClass=*)) for cn: the groups that list U, decided without reading any member list', async () => {
    for (const [who, want] of [['alice', [`cn=committers,ou=groups,${BASE}`]], ['bob', []], ['nobody', []]]) {
      const f = `(&(memberUid=${who})(objectClass=*))`;
      const { entries, reads } = await search(f, { base: `ou=groups,${BASE}`, attributes: ['cn'] });
      assert.deepEqual(Object.keys(entries), want, who);
      assert.ok(!reads.calls.includes('groupMembers'), `${who}: store calls ${reads.calls}`);
      // One lookup of the user and one of their groups for the whole search; no permissions.
      assert.equal(reads.calls.filter((c) => c === 'usersByUsername').length, who === 'nobody' ? 2 : 1, `${who}: store calls ${reads.calls}`);
      assert.ok(reads.calls.filter((c) => c === 'groupIdsOfUsers').length <= 1, `${who}: store calls ${reads.calls}`);
      assert.ok(!reads.calls.includes('permissionIdsOfUsers'), `${who}: store calls ${reads.calls}`);
      const old = await search(readingHolders(f), { base: `ou=groups,${BASE}`, attributes: ['cn'] });
      assert.deepEqual(old.entries, entries, `${who}: the same entries as reading every member list`);
    }
    // Asked for the members, the client gets them.
    const shown = await search(`(memberUid=alice)`, { base: `ou=groups,${BASE}`, attributes: ['memberUid'] });
    assert.deepEqual(shown.entries[`cn=committers,ou=groups,${BASE}`].memberUid, ['alice']);
  });

  test('(memberUid=root), a superuser, from ou=permissions and ou=roles: every permission and the superusers role, no holders read', async () => {
    const perms = await search('(memberUid=root)', { base: `ou=permissions,${BASE}`, attributes: ['cn'] });
    assert.deepEqual(Object.keys(perms.entries).sort(), [`cn=svn.commit_repo,ou=permissions,${BASE}`, `cn=svn.read_repo,ou=permissions,${BASE}`]);
    assert.equal(perms.reads.holders, 0);
    const roles = await search('(memberUid=root)', { base: `ou=roles,${BASE}`, attributes: ['cn'] });
    assert.deepEqual(Object.keys(roles.entries), [`cn=superusers,ou=roles,${BASE}`]);
    assert.equal(roles.reads.userPages, 0);
  });

  test('the answers equal those read from every holder, for every user, filter shape, base and attribute list', async () => {
    const names = ['alice', 'bob', 'root', 'ALICE', 'nobody', 'alice '];
    // A member DN naming a user in another case means that user, as a bind with it would (the
    // search rewrites `(member=...)` before anything else; the approximate form is not).
    const dn = (n, reference) => `uid=${reference && n === 'ALICE' ? 'alice' : n},ou=users,${BASE}`;
    const shapes = (n, r) => [
      `(member=${dn(n, r)})`,
      `(memberUid=${n})`,
      `(&(objectClass=groupOfNames)(member=${dn(n, r)}))`,
      `(|(memberUid=${n})(cn=svn.read_repo))`,
      `(&(cn=svn.*)(!(memberUid=${n})))`,
      `(&(memberUid=${n})(memberUid=bob))`,
      `(|(member=${dn(n, r)})(member=cn=committers,ou=groups,${BASE}))`,
    ];
    let compared = 0;
    for (const n of names) {
      const references = shapes(n, true);
      for (const [i, filter] of shapes(n, false).entries()) {
        for (const base of [BASE, `ou=permissions,${BASE}`, `ou=roles,${BASE}`]) {
          for (const attributes of [['cn'], [], ['memberUid']]) {
            const fast = await search(filter, { base, attributes });
            const old = await search(readingHolders(references[i]), { base, attributes });
            assert.deepEqual(fast.entries, old.entries, `${filter} from ${base} for [${attributes}]`);
            assert.ok(fast.reads.holders <= old.reads.holders);
            compared++;
          }
        }
      }
    }
    assert.equal(compared, 6 * 7 * 3 * 3);
  });
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
