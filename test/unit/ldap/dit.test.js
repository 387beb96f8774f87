// The tree (src/ldap/dit.ts) against clients sending long DNs: its memos stay bounded in
// characters, a DN longer than the tree can hold names nothing (and is not parsed), and short
// DNs keep being classified as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dit, MEMO_DN_CHARS } from '../../../dist/ldap/dit.js';

const BASE = 'dc=example,dc=com';
const tree = { baseDn: BASE, usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services' };
const newDit = () => new Dit(tree, false);

test('many unique 20 KB DNs leave the memos empty; many unique 1 KB ones stay within 2 MB of characters', () => {
  const dit = newDit();
  for (let i = 0; i < 2_000; i++) {
    const dn = `uid=${String(i).padStart(20_000, 'a')},ou=users,${BASE}`;
    const t = dit.classify(dn);
    dit.key(dn);
    assert.equal(t.kind, 'none');
  }
  assert.deepEqual(dit.memoised, { entries: 0, chars: 0 });
  for (let i = 0; i < 20_000; i++) {
    const dn = `uid=${String(i).padStart(MEMO_DN_CHARS - 40, 'b')},ou=users,${BASE}`;
    assert.equal(dit.classify(dn).kind, 'user');
    dit.key(dn);
  }
  const { chars } = dit.memoised;
  assert.ok(chars > 0 && chars <= 2 * (1 << 20), `${chars} characters memoised`);
});

test('a DN longer than the tree can hold names nothing, even when it is not valid syntax', () => {
  const dit = newDit();
  const huge = `uid=${'x'.repeat(250_000)},ou=users,${BASE}`;
  assert.deepEqual(dit.classify(huge), { kind: 'none', matched: '' });
  assert.deepEqual(dit.classify('=' + huge), { kind: 'none', matched: '' });
  // One key for all of them, equal to no real DN's (a NUL in a value is escaped in keys).
  assert.equal(dit.key(huge), dit.key('x' + huge));
  assert.notEqual(dit.key(huge), dit.key(`uid=\\00too long,${BASE}`));
  assert.notEqual(dit.key(huge), dit.key(''));
});

test('DNs up to the limit are parsed as before: hex-escaped, with spaces, or just too long to memoise', () => {
  const dit = newDit();
  const name = '𝄞'.repeat(150); // 4 bytes of UTF-8 each: 12 characters escaped
  const escaped = `uid=${[...Buffer.from(name)].map((b) => '\\' + b.toString(16).toUpperCase()).join('')} , ou=users , ${BASE}`;
  assert.ok(escaped.length > MEMO_DN_CHARS && escaped.length <= dit.maxDnChars);
  assert.deepEqual(dit.classify(escaped), { kind: 'user', username: name });
  assert.equal(dit.key(escaped), dit.key(dit.userDn(name)));
  assert.equal(dit.classify(`uid=ann,ou=users,${BASE}`).kind, 'user');
  assert.throws(() => dit.classify('not a dn'), { name: 'InvalidDnError' });
});
