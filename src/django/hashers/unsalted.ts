// Django's UnsaltedMD5PasswordHasher (a bare 32-hex MD5, or `md5$$` + it) and
// UnsaltedSHA1PasswordHasher (`sha1$$` + 40-hex SHA1): values from Django's first releases,
// which identify_hasher() recognises by their length rather than by an algorithm name.

import { createHash, randomBytes } from 'node:crypto';
import type { Hasher } from './hasher.js';
import { codePointLength, constantTimeEqual, malformed, utf8 } from './util.js';

export interface UnsaltedMd5Parsed {
  /** the 32 hex chars, without a `md5$$` in front */
  digest: string;
}

function isPrefixedMd5(encoded: string, codePoints: number): boolean {
  return codePoints === 37 && encoded.startsWith('md5$$');
}

export const unsaltedMd5: Hasher<UnsaltedMd5Parsed, 'unsalted_md5'> = {
  algorithm: 'unsalted_md5',
  claims: (encoded, codePoints) => (codePoints === 32 && !encoded.includes('$')) || isPrefixedMd5(encoded, codePoints),
  parse(encoded) {
    const digest = isPrefixedMd5(encoded, codePointLength(encoded)) ? encoded.slice(5) : encoded;
    if (!/^[0-9a-f]{32}$/.test(digest)) malformed();
    return { digest };
  },
  check: ({ digest }, password) => constantTimeEqual(digest, createHash('md5').update(utf8(password)).digest('hex')),
  weakness: () => 'unsalted MD5',
  cost: () => ({ hasher: 'unsalted_md5' }),
  lookalike() {
    const digest = randomBytes(16).toString('hex');
    return { parsed: { digest }, encoded: digest };
  },
};

export const unsaltedSha1: Hasher<undefined, 'unsalted_sha1'> = {
  algorithm: 'unsalted_sha1',
  claims: (encoded, codePoints) => codePoints === 46 && encoded.startsWith('sha1$$'),
  parse(encoded) {
    if (!/^sha1\$\$[0-9a-f]{40}$/.test(encoded)) malformed();
  },
  check: (_parsed, password, encoded) =>
    constantTimeEqual(encoded, `sha1$$${createHash('sha1').update(utf8(password)).digest('hex')}`),
  weakness: () => 'unsalted SHA1',
  cost: () => ({ hasher: 'unsalted_sha1' }),
  lookalike: () => ({ parsed: undefined, encoded: `sha1$$${randomBytes(20).toString('hex')}` }),
};
