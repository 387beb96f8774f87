// src/django/hashers/pbkdf2.ts: pbkdf2_sha256 and pbkdf2_sha1 against Django-made values.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { pbkdf2Sha1, pbkdf2Sha256 } from '../../../../dist/django/hashers/pbkdf2.js';
import { hasherSuite, vectorsOf } from './hasher-suite.js';

// pbkdf2_sha256$<iterations>$<salt>$<key>
const costOf = (v) => ({ hasher: v.hasher, iterations: Number(v.encoded.split('$')[1]) });
hasherSuite(pbkdf2Sha256, costOf);
hasherSuite(pbkdf2Sha1, costOf);

test('pbkdf2_sha256 make with the salt and count of a Django-made value gives that value', { concurrency: true }, async () => {
  const made = vectorsOf('pbkdf2_sha256').filter((v) => v.valid && !v.slow);
  await Promise.all(
    made.map(async (v) => {
      const [, iterations, salt] = v.encoded.split('$');
      assert.equal(await pbkdf2Sha256.make(v.password, { iterations: Number(iterations), salt }), v.encoded, v.id);
    }),
  );
});

test('pbkdf2_sha256 make picks a fresh 22-character salt when given none', async () => {
  const a = await pbkdf2Sha256.make('pw', { iterations: 1 });
  const b = await pbkdf2Sha256.make('pw', { iterations: 1, salt: '' });
  assert.match(a, /^pbkdf2_sha256\$1\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(a.split('$')[2], b.split('$')[2]);
  assert.equal(await pbkdf2Sha256.check(pbkdf2Sha256.parse(a), 'pw', a), true);
});

test('only pbkdf2_sha256 makes hashes (makePassword supports no other)', () => {
  assert.equal(pbkdf2Sha1.make, undefined);
});
