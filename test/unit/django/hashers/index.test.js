// src/django/hashers/index.ts: the registry. Every registered hasher is one Django ships (and
// the fixture covers), is found by its name, and unusable / unknown values are told apart.
// The answers for each vector are test/e2e/hashers.test.js's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HASHER_NAMES, hashCost, identifyHasher, makePassword, verifyPassword } from '../../../../dist/django/hashers/index.js';
import { vectors } from './hasher-suite.js';

test('the registered hashers are exactly the Django hashers the fixture has values for', () => {
  const inFixture = new Set(vectors.map((v) => v.hasher).filter((h) => h !== 'unusable' && h !== 'unknown'));
  assert.deepEqual([...HASHER_NAMES].sort(), [...inFixture].sort());
  assert.equal(new Set(HASHER_NAMES).size, HASHER_NAMES.length, 'no name registered twice');
});

test('every registered name identifies its hasher, and a value it cannot read is malformed', async () => {
  for (const name of HASHER_NAMES) {
    assert.equal(identifyHasher(`${name}$`), name);
    assert.deepEqual(await verifyPassword('pw', `${name}$`), { ok: false, hasher: name, problem: 'malformed' });
    assert.equal(hashCost(`${name}$`), undefined, name);
  }
});

test('every well-formed fixture value identifies as the hasher Django picks', () => {
  for (const v of vectors.filter((x) => !x.malformed && !x.unusable && x.hasher !== 'unknown')) {
    assert.equal(identifyHasher(v.encoded), v.hasher, v.id);
  }
});

test('unknown algorithms are unknown and unusable passwords unusable', async () => {
  for (const v of vectors.filter((x) => x.hasher === 'unknown' || x.unusable)) {
    const expected = v.unusable ? 'unusable' : 'unknown';
    assert.equal(identifyHasher(v.encoded), expected, v.id);
    assert.deepEqual(await verifyPassword(v.password, v.encoded), {
      ok: false,
      hasher: expected,
      problem: v.unusable ? 'unusable' : 'unknown-hasher',
    });
    assert.equal(hashCost(v.encoded), undefined, v.id);
  }
  for (const odd of [undefined, null, 42, {}]) assert.equal(identifyHasher(odd), 'unknown');
});

test('identifyHasher follows Django identify_hasher', () => {
  assert.equal(identifyHasher(''), 'unusable');
  assert.equal(identifyHasher('!'), 'unusable');
  assert.equal(identifyHasher('!pbkdf2_sha256$1$a$b'), 'unusable');
  assert.equal(identifyHasher('d41d8cd98f00b204e9800998ecf8427e'), 'unsalted_md5');
  assert.equal(identifyHasher('md5$$d41d8cd98f00b204e9800998ecf8427e'), 'unsalted_md5');
  assert.equal(identifyHasher('md5$salt$d41d8cd98f00b204e9800998ecf8427e'), 'md5');
  assert.equal(identifyHasher('sha1$$da39a3ee5e6b4b0d3255bfef95601890afd80709'), 'unsalted_sha1');
  assert.equal(identifyHasher('da39a3ee5e6b4b0d3255bfef95601890afd80709'), 'unknown');
  assert.equal(identifyHasher('bcrypt_sha256$$2b$12$x'), 'bcrypt_sha256');
  // Python's len() counts code points: 31 chars + one astral char is 32, not 33.
  assert.equal(identifyHasher('d41d8cd98f00b204e9800998ecf8427' + '\u{1F600}'), 'unsalted_md5');
  assert.equal(identifyHasher('Pbkdf2_sha256$1$a$b'), 'unknown');
});

test('makePassword refuses a hasher it cannot make with', async () => {
  for (const hasher of HASHER_NAMES.filter((h) => h !== 'pbkdf2_sha256')) {
    await assert.rejects(makePassword('pw', { hasher, iterations: 1 }), TypeError, hasher);
  }
  await assert.rejects(makePassword('pw', { hasher: 'toString' }), TypeError);
});
