// src/django/hash-policy.ts: when a stored hash is re-made with the site's hasher (as Django's
// login re-hashes), what it is made with, and generated passwords.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, makeSiteHash, needsUpgrade } from '../../../dist/django/hash-policy.js';
import { hashCost, makePassword, verifyPassword } from '../../../dist/django/hashers/index.js';

const POLICY = { hasher: 'pbkdf2_sha256', iterations: 3000 };

test('a weaker stored hash is upgraded; an equal or stronger one, or one that cannot be checked, is not', async () => {
  assert.equal(needsUpgrade(await makePassword('pw', { iterations: 1000 }), POLICY), true, 'fewer iterations');
  assert.equal(needsUpgrade(await makePassword('pw', { iterations: 3000 }), POLICY), false, 'the same');
  assert.equal(needsUpgrade(await makePassword('pw', { iterations: 260000 }), POLICY), false, 'more iterations: never lowered');
  assert.equal(needsUpgrade('md5$salt$' + 'a'.repeat(32), POLICY), true, 'another hasher');
  assert.equal(needsUpgrade('pbkdf2_sha1$260000$salt$' + 'A'.repeat(27) + '=', POLICY), true, 'another hasher, more iterations');
  assert.equal(needsUpgrade('!unusable', POLICY), false);
  assert.equal(needsUpgrade('', POLICY), false);
  assert.equal(needsUpgrade('nosuchhasher$1$2', POLICY), false);
});

test("the site hash is Django's pbkdf2_sha256 at the configured count, and checks", async () => {
  const h = await makeSiteHash('pässwörd', POLICY);
  assert.deepEqual(hashCost(h), { hasher: 'pbkdf2_sha256', iterations: 3000 });
  assert.equal((await verifyPassword('pässwörd', h)).ok, true);
  assert.equal((await verifyPassword('passwörd', h)).ok, false);
});

test('generated passwords: the asked length, no look-alike characters, never the same', () => {
  const a = generatePassword(20);
  const b = generatePassword(20);
  assert.equal([...a].length, 20);
  assert.match(a, /^[a-km-zA-HJ-NP-Z2-9]+$/);
  assert.doesNotMatch(a, /[lIO01]/);
  assert.notEqual(a, b);
});
