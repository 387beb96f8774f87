// Compare access (access.ts): a bound ordinary user compares only their own entry and their
// own memberships; everything else answers insufficientAccessRights (50) before the store is
// asked, so existing and missing targets answer alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, user } from '../../fakes/memory-store.js';
import { BASE, dispatchOnce, testContext, testSession } from '../../fakes/ldap-context.js';

const dn = (u) => `uid=${u},ou=users,${BASE}`;
const ALICE = { kind: 'user', dn: dn('alice'), userId: 1, username: 'alice' };

function setup() {
  const store = new MemoryStore({
    users: [user(1, 'alice'), user(2, 'bob'), user(3, 'root', { isSuperuser: true, isStaff: true })],
    groups: [{ id: 1, name: 'team' }],
    memberships: [[1, 1], [2, 1]],
    permissions: [{ id: 1, appLabel: 'svn', codename: 'commit', name: 'Can commit' }],
    groupPermissions: [[1, 1]],
  });
  const { ctx } = testContext(store);
  return { ctx, session: testSession(ALICE) };
}

async function compare(ctx, session, entry, attribute, value) {
  const [r] = await dispatchOnce(ctx, session, { op: 'compare', entry, attribute, value });
  return r.code;
}

test("a bound user's compares on other users answer 50 whether the user exists or not", async () => {
  const { ctx, session } = setup();
  for (const target of ['bob', 'root', 'nobody']) {
    for (const [attribute, value] of [['objectClass', 'inetOrgPerson'], ['objectClass', 'top'], ['uid', target], ['mail', 'x@example.com']]) {
      assert.equal(await compare(ctx, session, dn(target), attribute, value), 50, `${target} ${attribute}`);
    }
  }
});

test("a bound user's compares of someone else's membership answer 50 for existing and missing groups, roles and permissions", async () => {
  const { ctx, session } = setup();
  const targets = [`cn=team,ou=groups,${BASE}`, `cn=nogroup,ou=groups,${BASE}`, `cn=superusers,ou=roles,${BASE}`, `cn=staff,ou=roles,${BASE}`, `cn=svn.commit,ou=permissions,${BASE}`, `cn=svn.nothing,ou=permissions,${BASE}`];
  for (const entry of targets) {
    for (const [attribute, value] of [['member', dn('bob')], ['member', dn('root')], ['memberUid', 'bob'], ['uniqueMember', dn('bob')], ['objectClass', 'groupOfNames'], ['cn', 'team'], ['member', 'not a dn']]) {
      assert.equal(await compare(ctx, session, entry, attribute, value), 50, `${entry} ${attribute}=${value}`);
    }
  }
});

test('a bound user compares their own entry and their own memberships', async () => {
  const { ctx, session } = setup();
  assert.equal(await compare(ctx, session, dn('alice'), 'objectClass', 'inetOrgPerson'), 6);
  assert.equal(await compare(ctx, session, dn('alice'), 'uid', 'bob'), 5);
  assert.equal(await compare(ctx, session, `UID=alice,OU=Users,${BASE.toUpperCase()}`, 'uid', 'alice'), 6);
  assert.equal(await compare(ctx, session, `cn=team,ou=groups,${BASE}`, 'member', dn('alice')), 6);
  assert.equal(await compare(ctx, session, `cn=team,ou=groups,${BASE}`, 'member', `UID=alice, OU=users, ${BASE}`), 6);
  assert.equal(await compare(ctx, session, `cn=team,ou=groups,${BASE}`, 'memberUid', 'alice'), 6);
  assert.equal(await compare(ctx, session, `cn=superusers,ou=roles,${BASE}`, 'memberUid', 'alice'), 5);
  assert.equal(await compare(ctx, session, `cn=svn.commit,ou=permissions,${BASE}`, 'member', dn('alice')), 6);
  assert.equal(await compare(ctx, session, `cn=team,ou=groups,${BASE}`, 'uniqueMember', dn('alice')), 16);
  // Their own membership of a group that does not exist is theirs to learn.
  assert.equal(await compare(ctx, session, `cn=nogroup,ou=groups,${BASE}`, 'member', dn('alice')), 32);
});

test('a service account compares anything', async () => {
  const { ctx } = setup();
  const svc = testSession({ kind: 'service', dn: `cn=apache,ou=services,${BASE}` });
  assert.equal(await compare(ctx, svc, dn('bob'), 'objectClass', 'inetOrgPerson'), 6);
  assert.equal(await compare(ctx, svc, dn('nobody'), 'objectClass', 'inetOrgPerson'), 32);
  assert.equal(await compare(ctx, svc, `cn=superusers,ou=roles,${BASE}`, 'memberUid', 'root'), 6);
});
