// What every hasher module must do with the Django-made vectors of test/fixtures/django-hashers.json
// that name its algorithm: parse them (and reject the malformed ones), check the right and the
// wrong passwords, report their cost, make lookalikes of the same cost, and refuse a NUL in the
// password exactly when it says so. Each hasher module's test file runs this for its hashers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Malformed } from '../../../../dist/django/hashers/util.js';

export const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../fixtures/django-hashers.json', import.meta.url)), 'utf8'));

/** The vectors Django's identify_hasher() gives to `algorithm`. */
export function vectorsOf(algorithm) {
  const mine = vectors.filter((v) => v.hasher === algorithm);
  assert.ok(mine.length > 0, `the fixture has vectors for ${algorithm}`);
  return mine;
}

/**
 * Runs the shared tests for `hasher`. `costOf(v)` is what hashCost must report for the
 * well-formed vector `v`, read from its Django-made `encoded` text.
 */
export function hasherSuite(hasher, costOf) {
  const mine = vectorsOf(hasher.algorithm);
  const wellFormed = mine.filter((v) => !v.malformed);
  // The slow ones (argon2 at 100 MiB, bcrypt 12, PBKDF2 >= 500k...) run in test/e2e/hashers.test.js.
  const quick = wellFormed.filter((v) => !v.slow);

  test(`${hasher.algorithm}: parse accepts every well-formed Django value and rejects every malformed one`, () => {
    for (const v of wellFormed) assert.doesNotThrow(() => hasher.parse(v.encoded), v.id);
    for (const v of mine.filter((x) => x.malformed)) assert.throws(() => hasher.parse(v.encoded), Malformed, v.id);
  });

  test(`${hasher.algorithm}: check gives Django's answer for the right and the wrong passwords`, { concurrency: true }, async () => {
    await Promise.all(
      quick.map(async (v) => assert.equal(await hasher.check(hasher.parse(v.encoded), v.password, v.encoded), v.valid, v.id)),
    );
  });

  test(`${hasher.algorithm}: cost reports the parameters stored in the value`, () => {
    for (const v of wellFormed) assert.deepEqual(hasher.cost(hasher.parse(v.encoded)), costOf(v), v.id);
  });

  test(`${hasher.algorithm}: lookalike has the same cost, fresh random parts, and checks without a match`, { concurrency: true }, async () => {
    await Promise.all(
      quick.map(async (v) => {
        const model = hasher.parse(v.encoded);
        const a = hasher.lookalike(model);
        const b = hasher.lookalike(model);
        assert.deepEqual(hasher.cost(a.parsed), costOf(v), v.id);
        assert.notDeepEqual([a.parsed, a.encoded], [b.parsed, b.encoded], `${v.id}: fresh random parts`);
        // argon2's check reads only the parsed parameters: its lookalike has no stored form.
        if (a.encoded !== '') {
          assert.notEqual(a.encoded, b.encoded, v.id);
          assert.deepEqual(hasher.cost(hasher.parse(a.encoded)), costOf(v), `${v.id}: the lookalike parses back`);
        }
        assert.equal(await hasher.check(a.parsed, v.password, a.encoded), false, v.id);
      }),
    );
  });

  test(`${hasher.algorithm}: a NUL in the password is ${hasher.refusesNul ? 'refused as malformed' : 'hashed like any byte'}`, async () => {
    const v = quick.find((x) => x.valid);
    // In front: a NUL at the end is no change for HMAC (PBKDF2, scrypt), whose key is zero-padded.
    const checking = (async () => hasher.check(hasher.parse(v.encoded), `\0${v.password}`, v.encoded))();
    if (hasher.refusesNul) await assert.rejects(checking, Malformed);
    else assert.equal(await checking, false);
  });
}
