// The environment layer (src/config/env.ts): which variables exist, how each value is typed by
// the schema, and the label each setting carries for problems "(from VARIABLE)".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envLayer, envVarName, listEnvVars } from '../../../dist/config/env.js';

const layer = (env) => {
  const problems = [];
  const l = envLayer(env, problems);
  return { data: l.data, labels: Object.fromEntries(l.labels), problems };
};

test('a variable name is DJANGO_LDAP_ + the setting path, each camelCase step in UPPER_SNAKE', () => {
  assert.equal(envVarName(['baseDn']), 'DJANGO_LDAP_BASE_DN');
  assert.equal(envVarName(['security', 'bruteForce', 'maxLockoutSeconds']), 'DJANGO_LDAP_SECURITY_BRUTE_FORCE_MAX_LOCKOUT_SECONDS');
  assert.equal(envVarName(['permissions', 'contentTypeId']), 'DJANGO_LDAP_PERMISSIONS_CONTENT_TYPE_ID');
});

test('each setting\'s variable has the kind its schema type says', () => {
  const kind = Object.fromEntries(listEnvVars().map((s) => [s.name, s.kind]));
  assert.equal(kind.DJANGO_LDAP_LISTEN, 'list');
  assert.equal(kind.DJANGO_LDAP_SERVICE_ACCOUNTS, 'json');
  assert.equal(kind.DJANGO_LDAP_ANONYMOUS_SEARCH, 'boolean');
  assert.equal(kind.DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES, 'number');
  assert.equal(kind.DJANGO_LDAP_USERS_COLUMNS_EMAIL, 'nullableString');
  assert.equal(kind.DJANGO_LDAP_GROUPS, 'falseOrMapping');
  assert.equal(kind.DJANGO_LDAP_BASE_DN, 'string');
});

test('values are typed: booleans, numbers, null, lists, JSON; what does not parse is left for the schema', () => {
  const { data, problems } = layer({
    DJANGO_LDAP_ANONYMOUS_SEARCH: ' TRUE ',
    DJANGO_LDAP_USERS_SHOW_INACTIVE: '0',
    DJANGO_LDAP_USERS_CASE_INSENSITIVE: 'maybe',
    DJANGO_LDAP_LIMITS_MAX_SEARCH_SECONDS: '2.5',
    DJANGO_LDAP_LIMITS_MAX_SEARCH_ENTRIES: 'lots',
    DJANGO_LDAP_USERS_COLUMNS_EMAIL: 'Null',
    DJANGO_LDAP_LISTEN: 'ldap://a:1, ,ldap://b:2,',
    DJANGO_LDAP_SERVICE_ACCOUNTS: '[{"dn": "cn=x,dc=y", "password": "pbkdf2_sha256$1$a$b"}]',
    DJANGO_LDAP_GROUPS: 'false',
  });
  assert.deepEqual(problems, []);
  assert.equal(data.anonymous.search, true);
  assert.equal(data.users.showInactive, false);
  assert.equal(data.users.caseInsensitive, 'maybe');
  assert.equal(data.limits.maxSearchSeconds, 2.5);
  assert.equal(data.limits.maxSearchEntries, 'lots');
  assert.equal(data.users.columns.email, null);
  assert.deepEqual(data.listen, ['ldap://a:1', 'ldap://b:2']);
  assert.deepEqual(data.serviceAccounts, [{ dn: 'cn=x,dc=y', password: 'pbkdf2_sha256$1$a$b' }]);
  assert.equal(data.groups, false);
});

test('each setting is labelled with its variable; DATABASE_URL stands in for DJANGO_LDAP_DATABASE', () => {
  assert.deepEqual(layer({ DATABASE_URL: 'sqlite:///a', DJANGO_LDAP_LOG_LEVEL: 'debug' }).labels, { database: 'DATABASE_URL', 'log.level': 'DJANGO_LDAP_LOG_LEVEL' });
  const both = layer({ DATABASE_URL: 'sqlite:///a', DJANGO_LDAP_DATABASE: 'sqlite:///b' });
  assert.equal(both.data.database, 'sqlite:///b');
  assert.equal(both.labels.database, 'DJANGO_LDAP_DATABASE');
  assert.deepEqual(layer({ DJANGO_LDAP_USERS_TABLE: '  ', OTHER: 'x', DJANGO_LDAP_NOT_A_SETTING: 'y' }).data, {});
});

test('bad JSON and a setting under a relation switched off are problems naming the variable', () => {
  const bad = layer({ DJANGO_LDAP_SERVICE_ACCOUNTS: '[{"dn": ' });
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0], /^DJANGO_LDAP_SERVICE_ACCOUNTS: must be a JSON list, e\.g\. /);
  assert.equal(bad.data.serviceAccounts, undefined);
  const off = layer({ DJANGO_LDAP_GROUPS: 'false', DJANGO_LDAP_GROUPS_TABLE: 'teams' });
  assert.deepEqual(off.problems, ['DJANGO_LDAP_GROUPS_TABLE: conflicts with DJANGO_LDAP_GROUPS=false (that relation is switched off)']);
  assert.equal(off.data.groups, false);
});
