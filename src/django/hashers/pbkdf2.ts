// Django's PBKDF2PasswordHasher (pbkdf2_sha256, the default) and PBKDF2SHA1PasswordHasher:
// `<algorithm>$<iterations>$<salt>$<base64 key>`.

import { pbkdf2, randomBytes } from 'node:crypto';
import type { Hasher, MakeOptions } from './hasher.js';
import { constantTimeEqual, INT_MAX, malformed, POSITIVE_DECIMAL, pySplit, randomSalt, saltForMake, utf8 } from './util.js';

/** Django 5.2's PBKDF2PasswordHasher.iterations. */
export const DEFAULT_PBKDF2_ITERATIONS = 1_000_000;

export interface Pbkdf2Parsed {
  iterations: number;
  salt: string;
}

/** What a pbkdf2_sha256 value made by Django 5.2 costs (the salt is never used as is). */
export const DJANGO_DEFAULT_PBKDF2: Pbkdf2Parsed = { iterations: DEFAULT_PBKDF2_ITERATIONS, salt: '' };

function pbkdf2Async(password: Buffer, salt: Buffer, iterations: number, keylen: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, keylen, digest, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The stored form, as Django's encode() writes it. */
function format(algorithm: string, iterations: number, salt: string, key: string): string {
  return `${algorithm}$${iterations}$${salt}$${key}`;
}

function pbkdf2Hasher<const Name extends string>(
  algorithm: Name,
  digest: 'sha256' | 'sha1',
  keyLength: number,
  /** base64 of a keyLength-byte key, as Python writes it (with its padding) */
  keyShape: RegExp,
): Hasher<Pbkdf2Parsed, Name> {
  return {
    algorithm,
    parse(encoded) {
      // algorithm, iterations, salt, hash = encoded.split('$', 3)
      const parts = pySplit(encoded, '$', 3);
      if (parts.length !== 4) malformed();
      const [name, iterText, salt, hash] = parts as [string, string, string, string];
      if (name !== algorithm) malformed();
      // int(iterations) then "%d" on re-encode: only a canonical decimal can round-trip. Zero
      // makes Django fall back to its default count (never equal), negative makes hashlib raise.
      if (!POSITIVE_DECIMAL.test(iterText) || iterText.length > 10) malformed();
      const iterations = Number(iterText);
      if (iterations > INT_MAX) malformed(); // hashlib: "iteration value is too great"
      if (salt === '') malformed(); // assert salt / "salt must be provided"
      if (!keyShape.test(hash)) malformed(); // can never equal base64 of the key
      return { iterations, salt };
    },
    async check({ iterations, salt }, password, encoded) {
      const key = await pbkdf2Async(utf8(password), utf8(salt), iterations, keyLength, digest);
      return constantTimeEqual(encoded, format(algorithm, iterations, salt, key.toString('base64')));
    },
    cost: ({ iterations }) => ({ hasher: algorithm, iterations }),
    lookalike(parsed) {
      const p = { ...parsed, salt: randomSalt() };
      const digest = randomBytes(keyLength).toString('base64');
      return { parsed: p, encoded: format(algorithm, p.iterations, p.salt, digest) };
    },
  };
}

export const pbkdf2Sha256 = {
  ...pbkdf2Hasher('pbkdf2_sha256', 'sha256', 32, /^[A-Za-z0-9+/]{43}=$/),
  /** Django's make_password (default iterations 1_000_000, random 22-char salt). */
  async make(password: string, options: MakeOptions): Promise<string> {
    const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > INT_MAX) {
      throw new RangeError(`makePassword: iterations must be an integer from 1 to ${INT_MAX}`);
    }
    const salt = saltForMake(options.salt);
    const key = await pbkdf2Async(utf8(password), utf8(salt), iterations, 32, 'sha256');
    return format('pbkdf2_sha256', iterations, salt, key.toString('base64'));
  },
} satisfies Hasher<Pbkdf2Parsed, 'pbkdf2_sha256'>;

export const pbkdf2Sha1 = pbkdf2Hasher('pbkdf2_sha1', 'sha1', 20, /^[A-Za-z0-9+/]{27}=$/);
