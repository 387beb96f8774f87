// Merging layers with provenance (src/config/merge.ts): the later layer wins setting by setting,
// and each setting remembers which variable or flag gave it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLayers } from '../../../dist/config/merge.js';

const layer = (data, labels = {}) => ({ data, labels: new Map(Object.entries(labels)) });

test('mappings merge key by key; a later layer wins, and its label with it', () => {
  const env = layer({ database: 'sqlite:///env', log: { level: 'warn', format: 'json' } }, { database: 'DATABASE_URL', 'log.level': 'DJANGO_LDAP_LOG_LEVEL', 'log.format': 'DJANGO_LDAP_LOG_FORMAT' });
  const file = layer({ log: { level: 'info' } });
  const flags = layer({ database: 'sqlite:///flag' }, { database: '--database' });
  const m = mergeLayers([env, file, flags]);
  assert.deepEqual(m.data, { database: 'sqlite:///flag', log: { level: 'info', format: 'json' } });
  assert.equal(m.sourceOf('database'), '--database');
  assert.equal(m.sourceOf('log.level'), null, 'the file needs no label');
  assert.equal(m.sourceOf('log.format'), 'DJANGO_LDAP_LOG_FORMAT');
  assert.equal(m.sourceOf('baseDn'), null, 'nobody gave it');
});

test('a problem below a setting is traced to whoever gave the setting (list items, nested keys)', () => {
  const m = mergeLayers([layer({ listen: ['ldap://a:1', 'x'], serviceAccounts: [{ dn: 'cn=a', password: 'p' }] }, { listen: 'DJANGO_LDAP_LISTEN', serviceAccounts: 'DJANGO_LDAP_SERVICE_ACCOUNTS' })]);
  assert.equal(m.sourceOf('listen[1]'), 'DJANGO_LDAP_LISTEN');
  assert.equal(m.sourceOf('serviceAccounts[0].password'), 'DJANGO_LDAP_SERVICE_ACCOUNTS');
});

test('a list or false replaces; a mapping over false replaces it and forgets the labels below', () => {
  const env = layer({ listen: ['ldap://a:1', 'ldap://b:2'], groups: false }, { listen: 'DJANGO_LDAP_LISTEN', groups: 'DJANGO_LDAP_GROUPS' });
  const file = layer({ listen: ['ldap://c:3'], groups: { name: 'title' } });
  const m = mergeLayers([env, file]);
  assert.deepEqual(m.data, { listen: ['ldap://c:3'], groups: { name: 'title' } });
  assert.equal(m.sourceOf('listen[0]'), null);
  assert.equal(m.sourceOf('groups.name'), null);
  const back = mergeLayers([layer({ groups: { table: 't', name: 'n' } }, { 'groups.table': 'DJANGO_LDAP_GROUPS_TABLE' }), layer({ groups: false }, { groups: '--x' })]);
  assert.equal(back.data.groups, false);
  assert.equal(back.sourceOf('groups.table'), '--x', 'the old label below is gone');
});

test('layers are copied, never shared, and a "__proto__" key stays an own setting', () => {
  const list = ['ldap://a:1'];
  const evil = JSON.parse('{"__proto__": {"polluted": true}}');
  const m = mergeLayers([layer({ listen: list }), layer(evil)]);
  list.push('ldap://b:2');
  assert.deepEqual(m.data.listen, ['ldap://a:1']);
  assert.ok(Object.prototype.hasOwnProperty.call(m.data, '__proto__'));
  assert.equal({}.polluted, undefined);
});
