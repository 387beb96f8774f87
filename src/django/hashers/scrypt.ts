// Django's ScryptPasswordHasher (Django 4.0+):
// `scrypt$<N>$<salt>$<r>$<p>$<base64 of the 64-byte key>`, checked with hashlib.scrypt's limits.

import { randomBytes, scrypt as scryptCallback } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import type { Hasher } from './hasher.js';
import { constantTimeEqual, INT_MAX, malformed, POSITIVE_DECIMAL, pySplit, randomSalt, utf8 } from './util.js';

/** OpenSSL's SCRYPT_MAX_MEM, used by hashlib.scrypt(maxmem=0) as Django calls it. */
const SCRYPT_MAXMEM = 32 * 1024 * 1024;

export interface ScryptParsed {
  n: number;
  r: number;
  p: number;
  salt: string;
}

function scryptAsync(password: Buffer, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** OpenSSL's EVP_PBE_scrypt parameter check, with maxmem 0 (= 32 MiB) as Django passes it. */
function scryptParamsOk(N: bigint, r: bigint, p: bigint): boolean {
  const U64_MAX = (1n << 64n) - 1n;
  if (r === 0n || p === 0n || N < 2n || (N & (N - 1n)) !== 0n) return false;
  const PR_MAX = (1n << 30n) - 1n;
  if (p > PR_MAX / r) return false;
  if (16n * r <= 63n && N >= 1n << (16n * r)) return false;
  const blen = p * 128n * r;
  if (blen > BigInt(INT_MAX)) return false;
  if (N + 2n > U64_MAX / 128n / r) return false;
  const vlen = 128n * r * (N + 2n);
  if (blen > U64_MAX - vlen) return false;
  return blen + vlen <= BigInt(SCRYPT_MAXMEM);
}

/** The stored form, as Django's encode() writes it. */
function format({ n, r, p, salt }: ScryptParsed, key: string): string {
  return `scrypt$${n}$${salt}$${r}$${p}$${key}`;
}

export const scrypt: Hasher<ScryptParsed, 'scrypt'> = {
  algorithm: 'scrypt',
  parse(encoded) {
    // algorithm, work_factor, salt, block_size, parallelism, hash = encoded.split('$', 6)
    const parts = pySplit(encoded, '$', 6);
    if (parts.length !== 6) malformed();
    const [algorithm, nText, salt, rText, pText, hash] = parts as [string, string, string, string, string, string];
    if (algorithm !== 'scrypt') malformed();
    // int() then "%d" on re-encode; 0 falls back to the default (never equal), negatives raise.
    if (!POSITIVE_DECIMAL.test(nText) || !POSITIVE_DECIMAL.test(rText) || !POSITIVE_DECIMAL.test(pText)) malformed();
    if (salt === '') malformed();
    if (!/^[A-Za-z0-9+/]{86}==$/.test(hash)) malformed(); // base64 of the 64-byte key
    const N = BigInt(nText);
    const r = BigInt(rText);
    const p = BigInt(pText);
    if (!scryptParamsOk(N, r, p)) malformed(); // hashlib.scrypt raises ValueError
    return { n: Number(N), r: Number(r), p: Number(p), salt };
  },
  async check(parsed, password, encoded) {
    const { n, r, p, salt } = parsed;
    const key = await scryptAsync(utf8(password), utf8(salt), 64, { N: n, r, p, maxmem: 2 * SCRYPT_MAXMEM });
    return constantTimeEqual(encoded, format(parsed, key.toString('base64')));
  },
  cost: ({ n, r, p }) => ({ hasher: 'scrypt', workFactor: n, blockSize: r, parallelism: p }),
  lookalike(parsed) {
    const p = { ...parsed, salt: randomSalt() };
    return { parsed: p, encoded: format(p, randomBytes(64).toString('base64')) };
  },
};
