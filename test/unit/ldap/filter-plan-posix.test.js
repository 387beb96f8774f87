// The POSIX numbers SSSD and nslcd look up (uidNumber, gidNumber) are planned as a lookup of
// the Django id (number minus base): an indexed primary-key query, never a scan. Without posix
// they are not SQL-planned at all (no entry carries them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from '../../../dist/ldap/filter.js';
import { planGroups, planUsers } from '../../../dist/ldap/filter-plan.js';
import { staticMatcher } from '../../../dist/ldap/ops/search.js';
import { POSIX_GROUP_CLASSES, POSIX_USER_CLASSES, USER_CLASSES } from '../../../dist/ldap/entries.js';

const posix = { uidBase: 2000000, gidBase: 1000000, primaryGroup: 'private', homeDirectory: '/home/{uid}', loginShell: '/bin/bash' };
const users = (f, p = posix, classes = POSIX_USER_CLASSES) => planUsers(parseFilter(f), false, staticMatcher(classes), p);

test('uidNumber and a private gidNumber become id lookups; ranges become id ranges', () => {
  assert.deepEqual(users('(&(objectclass=posixAccount)(uidNumber=2000042))'), { op: 'eq', field: 'id', value: 42, ci: false });
  assert.deepEqual(users('(gidNumber=2000007)'), { op: 'eq', field: 'id', value: 7, ci: false });
  assert.deepEqual(users('(uidNumber>=2000100)'), { op: 'cmp', field: 'id', dir: 'ge', value: 100, ci: false });
  assert.deepEqual(users('(&(objectClass=posixAccount)(uid=alice)(uidNumber=*))'), {
    op: 'and',
    items: [
      { op: 'eq', field: 'username', value: 'alice', ci: false },
      { op: 'present', field: 'id' },
    ],
  });
});

test('a fixed primary gid is not an id: left to the in-memory check', () => {
  assert.deepEqual(users('(gidNumber=4242)', { ...posix, primaryGroup: 4242 }), { op: 'all' });
});

test('posix off: the numbers are not planned, and posixAccount matches no user', () => {
  assert.deepEqual(users('(uidNumber=2000042)', null, USER_CLASSES), { op: 'all' });
  assert.deepEqual(users('(&(objectclass=posixAccount)(uid=alice))', null, USER_CLASSES), { op: 'none' });
});

test('a group gidNumber becomes a group id lookup', () => {
  assert.deepEqual(planGroups(parseFilter('(&(objectClass=posixGroup)(gidNumber=1000003))'), staticMatcher(POSIX_GROUP_CLASSES), posix), { op: 'eq', field: 'id', value: 3, ci: false });
});
