// src/ldap/ops/password-modify.ts: RFC 3062's request and response values, read strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePasswdModifyResponse, parsePasswdModify } from '../../../../dist/ldap/ops/password-modify.js';
import { BerError, octets, sequence } from '../../../../dist/ldap/ber.js';

const req = (...items) => sequence(items);

test('every field is optional, in the order RFC 3062 gives', () => {
  assert.deepEqual(parsePasswdModify(undefined), {});
  assert.deepEqual(parsePasswdModify(Buffer.alloc(0)), {});
  assert.deepEqual(parsePasswdModify(req()), {});
  const r = parsePasswdModify(req(octets('uid=alice,ou=users,dc=example,dc=com', 0x80), octets('old', 0x81), octets('nëw', 0x82)));
  assert.equal(r.userIdentity, 'uid=alice,ou=users,dc=example,dc=com');
  assert.equal(r.oldPasswd.toString(), 'old');
  assert.equal(r.newPasswd.toString(), 'nëw');
  const onlyNew = parsePasswdModify(req(octets('', 0x82)));
  assert.equal(onlyNew.userIdentity, undefined);
  assert.equal(onlyNew.oldPasswd, undefined);
  assert.deepEqual(onlyNew.newPasswd, Buffer.alloc(0), 'present but empty is not absent');
});

test('malformed values are refused', () => {
  for (const bad of [
    req(octets('new', 0x82), octets('old', 0x81)), // out of order
    req(octets('old', 0x81), octets('old', 0x81)), // twice
    req(octets('x', 0x83)), // unknown field
    req(octets('x', 0x04)), // universal tag
    Buffer.concat([req(), Buffer.from([0])]), // trailing data
    Buffer.from([0x30, 0x05, 0x80]), // truncated
    octets('not a sequence'),
  ]) assert.throws(() => parsePasswdModify(bad), BerError, bad.toString('hex'));
});

test('the response carries genPasswd as [0]', () => {
  assert.deepEqual(encodePasswdModifyResponse('abc'), Buffer.from([0x30, 0x05, 0x80, 0x03, 0x61, 0x62, 0x63]));
});
