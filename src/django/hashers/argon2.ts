// Django's Argon2PasswordHasher: `argon2$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>`
// (older values argon2i, and without `v=`, meaning version 0x10), checked as argon2-cffi's
// PasswordHasher.verify() does: with the type, version and costs the value names.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import argon2Binding from 'argon2';
import type { Hasher } from './hasher.js';
import { malformed, pySplit, utf8 } from './util.js';

const UINT32_MAX = 0xffff_ffff;

export interface Argon2Parsed {
  variety: 'argon2id' | 'argon2i' | 'argon2d';
  version: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  salt: Buffer;
  hash: Buffer;
}

/** libargon2 decode_decimal + DECIMAL_U32: digits only, no leading zero, fits in uint32. */
function argon2Decimal(s: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || s.length > 10) malformed();
  const v = Number(s);
  if (v > UINT32_MAX) malformed();
  return v;
}

/** libargon2 from_base64: standard alphabet, no padding, length != 1 (mod 4), zero trailing bits. */
function argon2B64(s: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) malformed();
  const buf = Buffer.from(s, 'base64');
  if (buf.toString('base64').replace(/=+$/, '') !== s) malformed(); // non-zero trailing bits
  return buf;
}

const ARGON2_RE =
  /^\$(argon2id|argon2i|argon2d)(?:\$v=([0-9]+))?\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$([A-Za-z0-9+/]*)\$([A-Za-z0-9+/]*)$/;

export const argon2: Hasher<Argon2Parsed, 'argon2'> = {
  algorithm: 'argon2',
  parse(encoded) {
    // algorithm, rest = encoded.split('$', 1); argon2.PasswordHasher().verify('$' + rest, ...)
    const [algorithm, rest] = pySplit(encoded, '$', 1);
    if (algorithm !== 'argon2' || rest === undefined) malformed();
    // argon2-cffi: the type comes from the header; libargon2's decode_string() then parses
    // "$<type>[$v=<u32>]$m=<u32>,t=<u32>,p=<u32>$<b64 salt>$<b64 hash>" and nothing more
    // (no "v=" means version 0x10).
    const m = ARGON2_RE.exec('$' + rest);
    if (!m) malformed();
    const variety = m[1] as Argon2Parsed['variety'];
    const version = m[2] === undefined ? 0x10 : argon2Decimal(m[2]);
    const memoryCost = argon2Decimal(m[3] as string);
    const timeCost = argon2Decimal(m[4] as string);
    const parallelism = argon2Decimal(m[5] as string);
    const salt = argon2B64(m[6] as string);
    const hash = argon2B64(m[7] as string);
    // libargon2 validate_inputs()
    if (hash.length < 4) malformed(); // ARGON2_MIN_OUTLEN
    if (salt.length < 8) malformed(); // ARGON2_MIN_SALT_LENGTH
    if (timeCost < 1) malformed(); // ARGON2_MIN_TIME
    if (parallelism < 1 || parallelism > 0xffffff) malformed(); // ARGON2_{MIN,MAX}_LANES
    if (memoryCost < 8 || memoryCost < 8 * parallelism) malformed(); // ARGON2_MIN_MEMORY, 8 * lanes
    return { variety, version, memoryCost, timeCost, parallelism, salt, hash };
  },
  // Compares the raw hash, not the string: argon2-cffi verifies, it does not re-encode.
  async check({ variety, version, memoryCost, timeCost, parallelism, salt, hash }, password) {
    const type =
      variety === 'argon2id' ? argon2Binding.argon2id : variety === 'argon2i' ? argon2Binding.argon2i : argon2Binding.argon2d;
    const actual = await argon2Binding.hash(utf8(password), {
      raw: true,
      type,
      version,
      memoryCost,
      timeCost,
      parallelism,
      salt,
      hashLength: hash.length,
    });
    if (actual.length !== hash.length) {
      timingSafeEqual(hash, hash);
      return false;
    }
    return timingSafeEqual(actual, hash);
  },
  cost: ({ variety, version, memoryCost, timeCost, parallelism }) => ({
    hasher: 'argon2',
    variety,
    version,
    memoryCost,
    timeCost,
    parallelism,
  }),
  // check() reads only `parsed`, so the stored form of the lookalike is never needed.
  lookalike: (parsed) => ({
    parsed: { ...parsed, salt: randomBytes(parsed.salt.length), hash: randomBytes(parsed.hash.length) },
    encoded: '',
  }),
};
