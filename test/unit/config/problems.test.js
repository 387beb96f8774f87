// The checks beyond the schema (src/config/problems.ts): each problem names its setting and
// says what is wrong with the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { semanticProblems } from '../../../dist/config/problems.js';

const HASH = 'pbkdf2_sha256$1000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const base = { database: 'sqlite:///x.sqlite3', baseDn: 'dc=example,dc=com' };
const check = (doc, bad = () => false) => semanticProblems({ ...base, ...doc }, '/srv', bad).map((p) => `${p.path}: ${p.message}`);

test('a valid document has no problems', () => {
  assert.deepEqual(check({ listen: ['ldap://0.0.0.0:389', 'ldap://[::1]:3389/'], proxyProtocol: ['ldap://0.0.0.0:389'], serviceAccounts: [{ dn: 'cn=apache,ou=services,dc=example,dc=com', password: HASH }] }), []);
  assert.deepEqual(check({ baseDn: 'o="Example, Inc.",c=US' }), []);
});

test('a DN is checked by the server\'s DN parser, whose reason is kept', () => {
  assert.deepEqual(check({ baseDn: 'dc=example,,dc=com' }), ['baseDn: "dc=example,,dc=com" is not a valid DN: unexpected "," where an attribute type should start at offset 11 (a DN is attribute=value pairs separated by commas, e.g. dc=example,dc=com)']);
  assert.deepEqual(check({ baseDn: '  ' }), ['baseDn: must not be empty']);
  assert.match(check({ baseDn: 'dc=example,dc=' })[0], /^baseDn: "dc=example,dc=" is not a valid DN: an attribute has an empty value /);
  assert.match(check({ serviceAccounts: [{ dn: 'cn=a\\', password: HASH }] })[0], /^serviceAccounts\[0\]\.dn: "cn=a\\\\" is not a valid DN: unterminated escape/);
});

test('service accounts with the same DN as LDAP compares DNs are caught', () => {
  const sas = [{ dn: 'cn=a,dc=x', password: HASH }, { dn: 'CN=A ; DC=X', password: HASH }, { dn: 'commonName=a,domainComponent=x', password: HASH }, { dn: 'cn=b,dc=x', password: HASH }];
  assert.deepEqual(check({ serviceAccounts: sas }), ['serviceAccounts[1].dn: the same DN as serviceAccounts[0].dn', 'serviceAccounts[2].dn: the same DN as serviceAccounts[0].dn']);
});

test('listen URLs are checked by the parser the server listens with; ldaps:// needs TLS files', () => {
  assert.deepEqual(check({ listen: ['ldap://localhost', 'ldap://h:70000', 'ldap://h:1/base', 'ldaps://0.0.0.0:636'] }), [
    'listen[0]: must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got "ldap://localhost")',
    'listen[1]: must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got "ldap://h:70000")',
    'listen[2]: must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got "ldap://h:1/base")',
    'listen[3]: ldaps:// needs tls.cert and tls.key (PEM files); or listen on ldap://host:port (got "ldaps://0.0.0.0:636")',
  ]);
  assert.deepEqual(check({ listen: ['ldaps://0.0.0.0:636'], tls: { cert: 'c.pem', key: 'k.pem' } }), []);
});

test('PROXY protocol listeners must be ldap:// listen URLs', () => {
  assert.deepEqual(check({ listen: ['ldap://0.0.0.0:389', 'ldaps://0.0.0.0:636'], tls: { cert: 'c', key: 'k' }, proxyProtocol: ['ldap://0.0.0.0:3389', 'ldaps://0.0.0.0:636'] }), [
    'proxyProtocol[0]: "ldap://0.0.0.0:3389" is not one of the listen URLs',
    'proxyProtocol[1]: the PROXY protocol is supported on ldap:// listeners (use StartTLS behind the balancer)',
  ]);
  assert.deepEqual(check({ proxyProtocol: ['ldap://127.0.0.1:3389'] }), [], 'the default listener counts');
});

test('OUs must differ (ignoring case); the database URL is parsed', () => {
  assert.deepEqual(check({ tree: { groups: 'Users' } }), ['tree.groups: "Users" is also tree.users; each OU must be different']);
  assert.deepEqual(check({ database: 'postgres://h/db?sslmode=nope' }), ['database: invalid sslmode "nope" (expected disable, allow, prefer, require, verify-ca, verify-full)']);
});

test('a setting the schema already refused gets no second message', () => {
  assert.deepEqual(check({ baseDn: 'nonsense', listen: ['ldap://x'] }, (p) => p === 'baseDn' || p === 'listen[0]'), []);
});

test('mfa.require: a group or permission must be mapped, and several workers need Redis for spent codes', () => {
  assert.deepEqual(check({ mfa: { require: 'confirmed-device' } }), []);
  assert.deepEqual(check({ mfa: { require: 'off' }, workers: 4 }), []);
  assert.deepEqual(check({ mfa: { require: 'group:admins' }, groups: false }), ['mfa.require: "group:admins" names a group, but groups are not mapped (groups or users.groups is false)']);
  assert.deepEqual(check({ mfa: { require: 'permission:ops.vpn' }, permissions: false }), ['mfa.require: "permission:ops.vpn" names a permission, but permissions are not mapped (permissions is false)']);
  assert.deepEqual(check({ mfa: { require: 'confirmed-device' }, workers: 0 }), ['mfa.require: with workers 0 a one-time code must be remembered by every worker: set security.redis (or workers: 1)']);
  assert.deepEqual(check({ mfa: { require: 'confirmed-device' }, workers: 4, security: { redis: 'redis://127.0.0.1:6379' } }), []);
});
