// Resolving a checked document to a BridgeConfig (src/config/resolve.ts): every default filled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../dist/config/resolve.js';
import { DEFAULT_DJANGO_MAPPING, DEFAULT_LISTEN } from '../../../dist/config/defaults.js';

const resolve = (doc) => resolveConfig({ database: 'sqlite://./db.sqlite3', baseDn: ' dc=x ', ...doc }, '/srv/site');

test('the minimal document gets Django\'s tables, the default listener and the schema\'s numbers', () => {
  const c = resolve({});
  assert.deepEqual(c.django, DEFAULT_DJANGO_MAPPING);
  assert.deepEqual(c.listen, [...DEFAULT_LISTEN]);
  assert.equal(c.tree.baseDn, 'dc=x');
  assert.equal(c.database, 'sqlite:///srv/site/db.sqlite3', 'a relative SQLite path is made absolute');
  assert.equal(c.limits.maxSearchEntries, 100000);
  assert.deepEqual(c.tree, { baseDn: 'dc=x', usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services' });
  assert.equal(c.tls, null);
  assert.ok(c.workers >= 1 && c.security.hashConcurrency >= 1);
});

test('the M2M tables follow users.table, as Django names them; a relation switched off takes its dependants with it', () => {
  const c = resolve({ users: { table: 'accounts_user' }, permissions: false });
  assert.equal(c.django.userGroups.table, 'accounts_user_groups');
  assert.equal(c.django.userPermissions, null);
  assert.equal(c.django.groups.permissions, null);
  assert.equal(c.django.permissions, null);
  assert.equal(resolve({ groups: false }).django.userGroups, null);
});

test('null columns stay null; TLS files are relative to cwd; workers share the CPUs for hashing', () => {
  const c = resolve({ users: { columns: { email: null } }, tls: { cert: 'c.pem', key: '/etc/k.pem' }, workers: 2, security: { hashConcurrency: 3 } });
  assert.equal(c.django.users.email, null);
  assert.deepEqual(c.tls, { cert: '/srv/site/c.pem', key: '/etc/k.pem' });
  assert.equal(c.workers, 2);
  assert.equal(c.security.hashConcurrency, 3);
});
