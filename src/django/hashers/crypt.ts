// Django's CryptPasswordHasher (removed in Django 5.0): `crypt$$<13-char DES crypt(3)>`,
// checked as Python's crypt.crypt(password, hash) == hash.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { bcryptB64Encode } from './bcrypt.js';
import type { Hasher } from './hasher.js';
import { constantTimeEqual, malformed, pySplit, randomSalt, utf8 } from './util.js';

// unix-crypt-td-js is CommonJS without type declarations: load it through require and give
// it the one signature used here (password bytes, two salt characters) -> 13-char string.
type DesCrypt = (pw: number[], salt: string) => string;
const desCrypt = createRequire(import.meta.url)('unix-crypt-td-js') as DesCrypt;

export interface CryptParsed {
  hash: string;
}

export const crypt: Hasher<CryptParsed, 'crypt'> = {
  algorithm: 'crypt',
  refusesNul: true,
  parse(encoded) {
    // algorithm, salt, hash = encoded.split('$', 2); crypt.crypt(password, hash) == hash
    const parts = pySplit(encoded, '$', 2);
    if (parts.length !== 3) malformed();
    const [algorithm, , hash] = parts as [string, string, string];
    if (algorithm !== 'crypt') malformed();
    // Traditional DES crypt(3): two salt characters and 11 of output, all from ./0-9A-Za-z.
    if (!/^[./0-9A-Za-z]{13}$/.test(hash)) malformed();
    return { hash };
  },
  check({ hash }, password) {
    const pw = utf8(password);
    if (pw.includes(0)) malformed(); // crypt.crypt: "embedded null character"
    // DES keeps 7 bits of each of the first 8 bytes; the salt is the hash's first 2 chars.
    return constantTimeEqual(hash, desCrypt(Array.from(pw.subarray(0, 8)), hash.slice(0, 2)));
  },
  weakness: () => 'DES crypt (8 characters)',
  cost: () => ({ hasher: 'crypt' }),
  lookalike() {
    // 2 + 11 random chars of ./0-9A-Za-z (bcrypt's base64 uses the same characters)
    const hash = randomSalt(2) + bcryptB64Encode(randomBytes(8));
    return { parsed: { hash }, encoded: `crypt$$${hash}` };
  },
};
