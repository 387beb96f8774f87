// The schema and its problems in words (src/config/schema.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaProblems, schemaDefault, servicePasswordProblem, typesOf } from '../../../dist/config/schema.js';

const problems = (doc) => schemaProblems({ database: 'sqlite:///x', baseDn: 'dc=x', ...doc }).map((p) => `${p.path}: ${p.message}`);

test('a document the schema accepts has no problems', () => {
  assert.deepEqual(problems({ listen: ['ldap://a:1'], groups: false, users: { columns: { email: null } } }), []);
});

test('an unknown setting is named, with the setting it most likely meant', () => {
  assert.deepEqual(problems({ users: { tabel: 'x' } }), ['users.tabel: unknown setting (did you mean "table"?)']);
  assert.deepEqual(problems({ base_dn: 'dc=x' }), ['base_dn: unknown setting (did you mean "baseDn"?)']);
  assert.deepEqual(problems({ users: { columns: { middleName: 'x' } } }), ['users.columns.middleName: unknown setting']);
});

test('"false or a mapping" settings: one message when neither, else the mapping\'s own problems', () => {
  assert.deepEqual(problems({ groups: true }), ['groups: must be false or a mapping']);
  assert.deepEqual(problems({ groups: { colour: 'blue' } }), ['groups.colour: unknown setting']);
});

test('values are described, secrets never repeated', () => {
  assert.deepEqual(problems({ log: { level: 'loud' } }), ['log.level: must be one of trace, debug, info, warn, error, fatal, silent (got "loud")']);
  assert.deepEqual(problems({ limits: { maxSearchEntries: 0 } }), ['limits.maxSearchEntries: must be >= 1 (got 0)']);
  assert.deepEqual(problems({ users: { columns: { password: null } } }), ['users.columns.password: may not be null: the bridge needs this column (must be a string)']);
  const p = problems({ serviceAccounts: [{ dn: 'cn=a,dc=x', password: 'hunter2-plain' }] });
  assert.deepEqual(p, ['serviceAccounts[0].password: must be a Django password hash (algorithm$...), not plaintext']);
});

test('service account passwords: why a value is not a Django hash', () => {
  assert.equal(servicePasswordProblem('pbkdf2_sha256$1000$salt$hash'), undefined);
  assert.match(servicePasswordProblem('!unusable'), /unusable Django password/);
  assert.match(servicePasswordProblem('my$thing'), /does not start with a known Django algorithm/);
  assert.match(servicePasswordProblem('pbkdf2_sha256$1000 $salt$hash'), /without spaces/);
});

test('defaults and types come from the schema', () => {
  assert.equal(schemaDefault(['limits', 'maxSearchEntries']), 100000);
  assert.equal(schemaDefault(['limits', 'noSuchSetting']), undefined);
  assert.deepEqual(typesOf({ enum: ['a', null] }), ['string', 'null']);
  assert.deepEqual(typesOf({ type: ['string', 'null'] }), ['string', 'null']);
});
