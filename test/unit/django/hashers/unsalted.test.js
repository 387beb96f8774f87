// src/django/hashers/unsalted.ts: unsalted_md5 and unsalted_sha1 against Django-made values,
// and which stored values they claim without their name in front.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { unsaltedMd5, unsaltedSha1 } from '../../../../dist/django/hashers/unsalted.js';
import { hasherSuite, vectors } from './hasher-suite.js';

hasherSuite(unsaltedMd5, (v) => ({ hasher: v.hasher }));
hasherSuite(unsaltedSha1, (v) => ({ hasher: v.hasher }));

test('each unsalted hasher claims exactly the fixture values Django identifies as it', () => {
  for (const hasher of [unsaltedMd5, unsaltedSha1]) {
    for (const v of vectors) {
      const codePoints = [...v.encoded].length; // Python's len()
      assert.equal(hasher.claims(v.encoded, codePoints), v.hasher === hasher.algorithm, `${hasher.algorithm} ${v.id}`);
    }
  }
});
