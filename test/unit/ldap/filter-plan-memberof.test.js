// src/ldap/filter-plan.ts on the login filters Gitea, Nextcloud, Keycloak and Authelia send
// (docs/integrations/): a uid test ANDed with memberOf and object classes plans as the uid's
// indexed equality alone (memberOf is then checked on that one user in memory), whatever the
// order and case; memberOf alone (a listing) plans as every user, a superset the exact check
// narrows. test/e2e/documented-clients.test.js asserts the SQL the store then runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from '../../../dist/ldap/filter.js';
import { planUsers } from '../../../dist/ldap/filter-plan.js';
import { staticMatcher } from '../../../dist/ldap/ops/search.js';
import { USER_CLASSES } from '../../../dist/ldap/entries.js';

const VPN = 'cn=vpn,ou=groups,dc=example,dc=com';
const plan = (f, ci = false) => planUsers(parseFilter(f), ci, staticMatcher(USER_CLASSES));

test('uid AND memberOf plans as the indexed uid equality', () => {
  const byName = { op: 'eq', field: 'username', value: 'alice', ci: false };
  for (const f of [
    `(&(uid=alice)(memberOf=${VPN}))`,
    `(&(memberOf=${VPN})(uid=alice))`,
    `(&(objectClass=inetOrgPerson)(uid=alice)(memberOf=${VPN}))`,
    `(&(UID=alice)(MEMBEROF=${VPN.toUpperCase()}))`,
    `(&(&(objectclass=inetOrgPerson)(objectclass=organizationalPerson))(uid=alice)(memberOf=${VPN}))`,
    `(&(uid=alice)(|(memberOf=${VPN})(memberOf=cn=superusers,ou=roles,dc=example,dc=com)))`,
  ]) assert.deepEqual(plan(f), byName, f);
  assert.deepEqual(plan(`(&(uid=alice)(memberOf=${VPN}))`, true), { ...byName, ci: true }, 'case-insensitive usernames');
});

test('memberOf without a uid is left to the exact check on every user', () => {
  assert.deepEqual(plan(`(memberOf=${VPN})`), { op: 'all' });
  assert.deepEqual(plan(`(&(objectClass=inetOrgPerson)(memberOf=${VPN}))`), { op: 'all' });
  // NOT of an inexact part must not narrow anything.
  assert.deepEqual(plan(`(&(uid=alice)(!(memberOf=${VPN})))`), { op: 'eq', field: 'username', value: 'alice', ci: false });
});
