// Django's salted SHA1PasswordHasher and MD5PasswordHasher:
// `<algorithm>$<salt>$<hex digest of salt + password>`.

import { createHash, randomBytes } from 'node:crypto';
import type { Hasher } from './hasher.js';
import { constantTimeEqual, malformed, pySplit, randomSalt, utf8 } from './util.js';

export interface SaltedParsed {
  salt: string;
}

function saltedHasher<const Name extends 'sha1' | 'md5'>(algorithm: Name, digestBytes: number, weakness: string): Hasher<SaltedParsed, Name> {
  /** hexdigest(): lower-case hex only */
  const hexShape = new RegExp(`^[0-9a-f]{${2 * digestBytes}}$`);
  return {
    algorithm,
    parse(encoded) {
      // algorithm, salt, hash = encoded.split('$', 2)
      const parts = pySplit(encoded, '$', 2);
      if (parts.length !== 3) malformed();
      const [name, salt, hash] = parts as [string, string, string];
      if (name !== algorithm) malformed();
      if (salt === '') malformed(); // assert salt / "salt must be provided"
      if (!hexShape.test(hash)) malformed();
      return { salt };
    },
    check({ salt }, password, encoded) {
      const hex = createHash(algorithm).update(utf8(salt + password)).digest('hex');
      return constantTimeEqual(encoded, `${algorithm}$${salt}$${hex}`);
    },
    // One fast digest per guess: Django deprecated both.
    weakness: () => weakness,
    cost: () => ({ hasher: algorithm }),
    lookalike() {
      const salt = randomSalt();
      return { parsed: { salt }, encoded: `${algorithm}$${salt}$${randomBytes(digestBytes).toString('hex')}` };
    },
  };
}

export const sha1 = saltedHasher('sha1', 20, 'salted SHA1');
export const md5 = saltedHasher('md5', 16, 'salted MD5');
