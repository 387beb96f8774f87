// The LDAP schema file shipped in schemas/ is exactly what the server serves and evaluates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bridgeSchemaText, subschemaValues, attributeType, attributeKey } from '../../../dist/ldap/schema.js';

test('schemas/django-ldap-bridge.schema is current (regenerate with `django-ldap-bridge schema`)', () => {
  const file = readFileSync(new URL('../../../schemas/django-ldap-bridge.schema', import.meta.url), 'utf8');
  assert.equal(file, bridgeSchemaText());
});

test('every attribute and class an entry can carry is described in cn=Subschema', () => {
  const { attributeTypes, objectClasses } = subschemaValues();
  for (const name of ['uid', 'cn', 'sn', 'mail', 'memberOf', 'member', 'memberUid', 'djangoPermission', 'entryUUID']) {
    assert.ok(attributeTypes.some((d) => d.includes(`'${name}'`)), name);
  }
  for (const name of ['inetOrgPerson', 'djangoAccount', 'groupOfNames', 'djangoGroup', 'organizationalUnit']) {
    assert.ok(objectClasses.some((d) => d.includes(`NAME '${name}'`)), name);
  }
  // RFC 4512 descriptions are balanced and quote names.
  for (const d of [...attributeTypes, ...objectClasses]) assert.match(d, /^\( [0-9.]+ NAME .* \)$/);
});

test('attribute names resolve case-insensitively, by alias and by OID', () => {
  assert.equal(attributeKey('MAIL'), 'mail');
  assert.equal(attributeKey('rfc822Mailbox'), 'mail');
  assert.equal(attributeKey('0.9.2342.19200300.100.1.1'), 'uid');
  assert.equal(attributeKey('cn;lang-en'), 'cn');
  assert.equal(attributeType('commonName').names[0], 'cn');
});
