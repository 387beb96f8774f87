// Verification (and creation) of Django password hashes, matching
// django/contrib/auth/hashers.py: identify_hasher() and each hasher's decode()/verify().
//
// Django verifies almost every format by re-encoding the password with the parameters read
// from the stored value and comparing the *whole* string, so anything that does not re-encode
// to exactly the stored text (stripped base64 padding, a zero-padded iteration count,
// upper-case hex, stray whitespace...) fails. Where Django raises (ValueError,
// AssertionError, InvalidHash, UnicodeEncodeError...) the check is a failure here too,
// reported as `problem: 'malformed'`.
//
// Nothing in this module logs, and no error message it produces contains a password or hash.

import { createHash, pbkdf2, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import { createRequire } from 'node:module';
import argon2 from 'argon2';
import bcrypt from '@node-rs/bcrypt';

export type HasherName =
  | 'pbkdf2_sha256'
  | 'pbkdf2_sha1'
  | 'argon2'
  | 'bcrypt_sha256'
  | 'bcrypt'
  | 'scrypt'
  | 'sha1'
  | 'md5'
  | 'unsalted_md5'
  | 'unsalted_sha1'
  | 'crypt';

export interface VerifyResult {
  ok: boolean; // true only if Django's check_password would return True
  hasher: HasherName | 'unusable' | 'unknown';
  /** set when ok is false for a reason other than a wrong password */
  problem?: 'unusable' | 'unknown-hasher' | 'malformed';
}

// ---------------------------------------------------------------------------------------------
// Constants

/** Django 5.2's PBKDF2PasswordHasher.iterations. */
const DEFAULT_PBKDF2_ITERATIONS = 1_000_000;
/** django.utils.crypto.RANDOM_STRING_CHARS */
const RANDOM_STRING_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** ceil(128 bits / log2(62)) — BasePasswordHasher.salt() */
const SALT_LENGTH = 22;
/** hashlib.pbkdf2_hmac refuses more than INT_MAX iterations (so does Node's crypto.pbkdf2). */
const INT_MAX = 2_147_483_647;
/** OpenSSL's SCRYPT_MAX_MEM, used by hashlib.scrypt(maxmem=0) as Django calls it. */
const SCRYPT_MAXMEM = 32 * 1024 * 1024;
const UINT32_MAX = 0xffff_ffff;

const HASHER_NAMES: ReadonlySet<string> = new Set<HasherName>([
  'pbkdf2_sha256',
  'pbkdf2_sha1',
  'argon2',
  'bcrypt_sha256',
  'bcrypt',
  'scrypt',
  'sha1',
  'md5',
  'unsalted_md5',
  'unsalted_sha1',
  'crypt',
]);

// unix-crypt-td-js is CommonJS without type declarations: load it through require and give
// it the one signature used here (password bytes, two salt characters) -> 13-char string.
type DesCrypt = (pw: number[], salt: string) => string;
const desCrypt = createRequire(import.meta.url)('unix-crypt-td-js') as DesCrypt;

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Thrown for any value Django would reject (raise on); never carries secret material. */
class Malformed extends Error {
  constructor() {
    super('malformed password hash');
    this.name = 'Malformed';
  }
}

function malformed(): never {
  throw new Malformed();
}

/** Python's str.split(sep, maxsplit). */
function pySplit(s: string, sep: string, maxsplit: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < maxsplit) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** Python's len(): code points, not UTF-16 units. */
function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string Python could not .encode('utf-8') (lone surrogates): Django raises on it. */
function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/**
 * Constant-time string equality on UTF-8 bytes (django.utils.crypto.constant_time_compare).
 * Unequal lengths still run a same-length comparison before answering false.
 */
function constantTimeEqual(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, Buffer.alloc(x.length));
    return false;
  }
  return timingSafeEqual(x, y);
}

/** Canonical positive decimal as Python's "%d" writes it: no sign, no leading zero. */
const POSITIVE_DECIMAL = /^[1-9][0-9]*$/;

function randomSalt(length: number = SALT_LENGTH): string {
  let s = '';
  for (let i = 0; i < length; i++) s += RANDOM_STRING_CHARS[randomInt(RANDOM_STRING_CHARS.length)];
  return s;
}

function pbkdf2Async(password: Buffer, salt: Buffer, iterations: number, keylen: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, keylen, digest, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scryptAsync(password: Buffer, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

// ---------------------------------------------------------------------------------------------
// identify_hasher

/** identify like Django's identify_hasher (no verification); 'unusable' for '' or '!...', 'unknown' otherwise. */
export function identifyHasher(encoded: string): HasherName | 'unusable' | 'unknown' {
  if (typeof encoded !== 'string') return 'unknown';
  // is_password_usable(): anything starting with UNUSABLE_PASSWORD_PREFIX. An empty value is
  // rejected by identify_hasher() (no algorithm ''), which we report as unusable as well.
  if (encoded === '' || encoded.startsWith('!')) return 'unusable';
  const len = codePointLength(encoded);
  // Ancient Django: bare 32-char MD5, or MD5 / SHA1 with an empty salt.
  if ((len === 32 && !encoded.includes('$')) || (len === 37 && encoded.startsWith('md5$$'))) {
    return 'unsalted_md5';
  }
  if (len === 46 && encoded.startsWith('sha1$$')) return 'unsalted_sha1';
  const algorithm = pySplit(encoded, '$', 1)[0] ?? '';
  return HASHER_NAMES.has(algorithm) ? (algorithm as HasherName) : 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Parsing (Django's decode() plus the checks its libraries make before hashing)

type Pbkdf2Parsed = { hasher: 'pbkdf2_sha256' | 'pbkdf2_sha1'; iterations: number; salt: string };
type Argon2Parsed = {
  hasher: 'argon2';
  variety: 'argon2id' | 'argon2i' | 'argon2d';
  version: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  salt: Buffer;
  hash: Buffer;
};
type BcryptParsed = { hasher: 'bcrypt' | 'bcrypt_sha256'; prefix: string; rounds: number; salt: Buffer };
type ScryptParsed = { hasher: 'scrypt'; n: number; r: number; p: number; salt: string };
type SaltedParsed = { hasher: 'sha1' | 'md5'; salt: string };
type UnsaltedParsed = { hasher: 'unsalted_md5' | 'unsalted_sha1' };
type CryptParsed = { hasher: 'crypt'; hash: string };
type Parsed = Pbkdf2Parsed | Argon2Parsed | BcryptParsed | ScryptParsed | SaltedParsed | UnsaltedParsed | CryptParsed;

const PBKDF2_KEYLEN = { pbkdf2_sha256: 32, pbkdf2_sha1: 20 } as const;
const PBKDF2_DIGEST = { pbkdf2_sha256: 'sha256', pbkdf2_sha1: 'sha1' } as const;
const PBKDF2_B64 = {
  pbkdf2_sha256: /^[A-Za-z0-9+/]{43}=$/,
  pbkdf2_sha1: /^[A-Za-z0-9+/]{27}=$/,
} as const;

function parsePbkdf2(hasher: 'pbkdf2_sha256' | 'pbkdf2_sha1', encoded: string): Pbkdf2Parsed {
  // algorithm, iterations, salt, hash = encoded.split('$', 3)
  const parts = pySplit(encoded, '$', 3);
  if (parts.length !== 4) malformed();
  const [algorithm, iterText, salt, hash] = parts as [string, string, string, string];
  if (algorithm !== hasher) malformed();
  // int(iterations) then "%d" on re-encode: only a canonical decimal can round-trip. Zero
  // makes Django fall back to its default count (never equal), negative makes hashlib raise.
  if (!POSITIVE_DECIMAL.test(iterText) || iterText.length > 10) malformed();
  const iterations = Number(iterText);
  if (iterations > INT_MAX) malformed(); // hashlib: "iteration value is too great"
  if (salt === '') malformed(); // assert salt / "salt must be provided"
  if (!PBKDF2_B64[hasher].test(hash)) malformed(); // can never equal base64 of the key
  return { hasher, iterations, salt };
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

function parseArgon2(encoded: string): Argon2Parsed {
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
  return { hasher: 'argon2', variety, version, memoryCost, timeCost, parallelism, salt, hash };
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BCRYPT_RE = /^\$(2[aby])\$([0-9]{2})\$([./A-Za-z0-9]{22})[./A-Za-z0-9]{31}$/;

/** bcrypt's own base64 (./A-Za-z0-9, no padding), decoded to `len` bytes. */
function bcryptB64Decode(s: string, len: number): Buffer {
  const out = Buffer.alloc(len);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const ch of s) {
    const v = BCRYPT_ALPHABET.indexOf(ch);
    if (v < 0) malformed();
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < len) out[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (n < len) malformed();
  return out;
}

function bcryptB64Encode(buf: Buffer): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const byte of buf) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += BCRYPT_ALPHABET[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += BCRYPT_ALPHABET[(acc << (6 - bits)) & 0x3f];
  return s;
}

function parseBcrypt(hasher: 'bcrypt' | 'bcrypt_sha256', encoded: string): BcryptParsed {
  // algorithm, data = encoded.split('$', 1); bcrypt.hashpw(password, data)
  const [algorithm, data] = pySplit(encoded, '$', 1);
  if (algorithm !== hasher || data === undefined) malformed();
  // hashpw() accepts $2a$ / $2b$ ($2y$ is normalised to $2b$ and restored), a two-digit
  // cost 04..31 and a 22-char salt; its 60-char output is compared with `data` whole.
  const m = BCRYPT_RE.exec(data);
  if (!m) malformed();
  const rounds = Number(m[2]);
  if (rounds < 4 || rounds > 31) malformed();
  return { hasher, prefix: m[1] as string, rounds, salt: bcryptB64Decode(m[3] as string, 16) };
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

function parseScrypt(encoded: string): ScryptParsed {
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
  return { hasher: 'scrypt', n: Number(N), r: Number(r), p: Number(p), salt };
}

function parseSalted(hasher: 'sha1' | 'md5', encoded: string): SaltedParsed {
  // algorithm, salt, hash = encoded.split('$', 2)
  const parts = pySplit(encoded, '$', 2);
  if (parts.length !== 3) malformed();
  const [algorithm, salt, hash] = parts as [string, string, string];
  if (algorithm !== hasher) malformed();
  if (salt === '') malformed(); // assert salt / "salt must be provided"
  if (!(hasher === 'sha1' ? /^[0-9a-f]{40}$/ : /^[0-9a-f]{32}$/).test(hash)) malformed(); // hexdigest()
  return { hasher, salt };
}

function parseCrypt(encoded: string): CryptParsed {
  // algorithm, salt, hash = encoded.split('$', 2); crypt.crypt(password, hash) == hash
  const parts = pySplit(encoded, '$', 2);
  if (parts.length !== 3) malformed();
  const [algorithm, , hash] = parts as [string, string, string];
  if (algorithm !== 'crypt') malformed();
  // Traditional DES crypt(3): two salt characters and 11 of output, all from ./0-9A-Za-z.
  if (!/^[./0-9A-Za-z]{13}$/.test(hash)) malformed();
  return { hasher: 'crypt', hash };
}

/** Parse `encoded` for `hasher` (as identified); throws Malformed for anything Django rejects. */
function parse(hasher: HasherName, encoded: string): Parsed {
  switch (hasher) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1':
      return parsePbkdf2(hasher, encoded);
    case 'argon2':
      return parseArgon2(encoded);
    case 'bcrypt':
    case 'bcrypt_sha256':
      return parseBcrypt(hasher, encoded);
    case 'scrypt':
      return parseScrypt(encoded);
    case 'sha1':
    case 'md5':
      return parseSalted(hasher, encoded);
    case 'unsalted_md5': {
      const digest = codePointLength(encoded) === 37 && encoded.startsWith('md5$$') ? encoded.slice(5) : encoded;
      if (!/^[0-9a-f]{32}$/.test(digest)) malformed();
      return { hasher };
    }
    case 'unsalted_sha1':
      if (!/^sha1\$\$[0-9a-f]{40}$/.test(encoded)) malformed();
      return { hasher };
    case 'crypt':
      return parseCrypt(encoded);
  }
}

// ---------------------------------------------------------------------------------------------
// Verification: recompute what Django would and compare in constant time

async function check(parsed: Parsed, password: string, encoded: string): Promise<boolean> {
  const pw = utf8(password);
  switch (parsed.hasher) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const { hasher, iterations, salt } = parsed;
      const key = await pbkdf2Async(pw, utf8(salt), iterations, PBKDF2_KEYLEN[hasher], PBKDF2_DIGEST[hasher]);
      return constantTimeEqual(encoded, `${hasher}$${iterations}$${salt}$${key.toString('base64')}`);
    }
    case 'argon2': {
      const { variety, version, memoryCost, timeCost, parallelism, salt, hash } = parsed;
      const type = variety === 'argon2id' ? argon2.argon2id : variety === 'argon2i' ? argon2.argon2i : argon2.argon2d;
      const actual = await argon2.hash(pw, {
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
    }
    case 'bcrypt':
    case 'bcrypt_sha256': {
      const { hasher, prefix, rounds, salt } = parsed;
      let input: Buffer;
      if (hasher === 'bcrypt_sha256') {
        // bcrypt of the 64 lower-case hex chars of SHA-256(password)
        input = Buffer.from(createHash('sha256').update(pw).digest('hex'), 'ascii');
      } else {
        if (pw.includes(0)) malformed(); // bcrypt.hashpw: "password may not contain NUL bytes"
        input = pw.subarray(0, 72); // bcrypt reads only the first 72 bytes
      }
      const computed = await bcrypt.hash(input, rounds, salt);
      // hashpw() returns the stored prefix ($2a$, $2b$, $2y$) with the computed rest.
      return constantTimeEqual(encoded, `${hasher}$$${prefix}$${computed.slice(4)}`);
    }
    case 'scrypt': {
      const { n, r, p, salt } = parsed;
      const key = await scryptAsync(pw, utf8(salt), 64, { N: n, r, p, maxmem: 2 * SCRYPT_MAXMEM });
      return constantTimeEqual(encoded, `scrypt$${n}$${salt}$${r}$${p}$${key.toString('base64')}`);
    }
    case 'sha1':
    case 'md5': {
      const { hasher, salt } = parsed;
      const hex = createHash(hasher).update(utf8(salt + password)).digest('hex');
      return constantTimeEqual(encoded, `${hasher}$${salt}$${hex}`);
    }
    case 'unsalted_md5': {
      const digest = codePointLength(encoded) === 37 && encoded.startsWith('md5$$') ? encoded.slice(5) : encoded;
      return constantTimeEqual(digest, createHash('md5').update(pw).digest('hex'));
    }
    case 'unsalted_sha1':
      return constantTimeEqual(encoded, `sha1$$${createHash('sha1').update(pw).digest('hex')}`);
    case 'crypt': {
      if (pw.includes(0)) malformed(); // crypt.crypt: "embedded null character"
      // DES keeps 7 bits of each of the first 8 bytes; the salt is the hash's first 2 chars.
      const computed = desCrypt(Array.from(pw.subarray(0, 8)), parsed.hash.slice(0, 2));
      return constantTimeEqual(parsed.hash, computed);
    }
  }
}

/** Never throws, never rejects: any error is { ok:false, problem:'malformed' }. */
export async function verifyPassword(password: string, encoded: string): Promise<VerifyResult> {
  let hasher: HasherName | 'unusable' | 'unknown' = 'unknown';
  try {
    if (typeof encoded !== 'string') return { ok: false, hasher: 'unknown', problem: 'malformed' };
    hasher = identifyHasher(encoded);
    if (hasher === 'unusable') return { ok: false, hasher, problem: 'unusable' };
    if (hasher === 'unknown') return { ok: false, hasher, problem: 'unknown-hasher' };
    // Python cannot UTF-8-encode lone surrogates: Django raises, so the check fails.
    if (typeof password !== 'string' || !isWellFormed(password) || !isWellFormed(encoded)) {
      return { ok: false, hasher, problem: 'malformed' };
    }
    const parsed = parse(hasher, encoded);
    const ok = await check(parsed, password, encoded);
    return ok ? { ok: true, hasher } : { ok: false, hasher };
  } catch {
    return { ok: false, hasher, problem: 'malformed' };
  }
}

// ---------------------------------------------------------------------------------------------
// Creation

/** Django's make_password for pbkdf2_sha256 (default iterations 1_000_000, random 22-char salt from Django's alphabet) — used by a `hash-password` CLI command. */
export async function makePassword(
  password: string,
  opts: { hasher?: 'pbkdf2_sha256'; iterations?: number; salt?: string } = {},
): Promise<string> {
  const hasher = opts.hasher ?? 'pbkdf2_sha256';
  if (hasher !== 'pbkdf2_sha256') throw new TypeError('makePassword: only pbkdf2_sha256 is supported');
  if (typeof password !== 'string') throw new TypeError('makePassword: password must be a string');
  if (!isWellFormed(password)) throw new TypeError('makePassword: password is not valid Unicode');
  const iterations = opts.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > INT_MAX) {
    throw new RangeError(`makePassword: iterations must be an integer from 1 to ${INT_MAX}`);
  }
  // make_password(): `salt or hasher.salt()`, so an empty salt means a random one.
  const salt = opts.salt === undefined || opts.salt === '' ? randomSalt() : opts.salt;
  if (typeof salt !== 'string' || salt.includes('$') || !isWellFormed(salt)) {
    throw new TypeError('makePassword: salt must be a string without "$"');
  }
  const key = await pbkdf2Async(utf8(password), utf8(salt), iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt}$${key.toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------
// Cost description and timing equalisation

function parseQuietly(encoded: string): Parsed | undefined {
  try {
    if (typeof encoded !== 'string' || !isWellFormed(encoded)) return undefined;
    const hasher = identifyHasher(encoded);
    if (hasher === 'unusable' || hasher === 'unknown') return undefined;
    return parse(hasher, encoded);
  } catch {
    return undefined;
  }
}

function describe(parsed: Parsed): Record<string, string | number> {
  switch (parsed.hasher) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1':
      return { hasher: parsed.hasher, iterations: parsed.iterations };
    case 'argon2':
      return {
        hasher: 'argon2',
        variety: parsed.variety,
        version: parsed.version,
        memoryCost: parsed.memoryCost,
        timeCost: parsed.timeCost,
        parallelism: parsed.parallelism,
      };
    case 'bcrypt':
    case 'bcrypt_sha256':
      return { hasher: parsed.hasher, rounds: parsed.rounds };
    case 'scrypt':
      return { hasher: 'scrypt', workFactor: parsed.n, blockSize: parsed.r, parallelism: parsed.p };
    default:
      return { hasher: parsed.hasher };
  }
}

/** A description of the work one check of `encoded` costs, e.g. { hasher:'pbkdf2_sha256', iterations:260000 } or { hasher:'bcrypt', rounds:12 }, for logs and for choosing a dummy check; undefined when unparseable. */
export function hashCost(encoded: string): Record<string, string | number> | undefined {
  const parsed = parseQuietly(encoded);
  return parsed === undefined ? undefined : describe(parsed);
}

/** The same kind of stored value as `parsed`, with fresh random salt and digest. */
function lookalike(parsed: Parsed): { parsed: Parsed; encoded: string } {
  switch (parsed.hasher) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const p = { ...parsed, salt: randomSalt() };
      const digest = randomBytes(PBKDF2_KEYLEN[p.hasher]).toString('base64');
      return { parsed: p, encoded: `${p.hasher}$${p.iterations}$${p.salt}$${digest}` };
    }
    case 'argon2': {
      const p = { ...parsed, salt: randomBytes(parsed.salt.length), hash: randomBytes(parsed.hash.length) };
      return { parsed: p, encoded: '' };
    }
    case 'bcrypt':
    case 'bcrypt_sha256': {
      const p = { ...parsed, salt: randomBytes(16) };
      const rest = bcryptB64Encode(p.salt) + bcryptB64Encode(randomBytes(23));
      const encoded = `${p.hasher}$$${p.prefix}$${String(p.rounds).padStart(2, '0')}$${rest}`;
      return { parsed: p, encoded };
    }
    case 'scrypt': {
      const p = { ...parsed, salt: randomSalt() };
      const digest = randomBytes(64).toString('base64');
      return { parsed: p, encoded: `scrypt$${p.n}$${p.salt}$${p.r}$${p.p}$${digest}` };
    }
    case 'sha1':
    case 'md5': {
      const p = { ...parsed, salt: randomSalt() };
      const digest = randomBytes(p.hasher === 'sha1' ? 20 : 16).toString('hex');
      return { parsed: p, encoded: `${p.hasher}$${p.salt}$${digest}` };
    }
    case 'unsalted_md5':
      return { parsed, encoded: randomBytes(16).toString('hex') };
    case 'unsalted_sha1':
      return { parsed, encoded: `sha1$$${randomBytes(20).toString('hex')}` };
    case 'crypt': {
      const hash = randomSalt(2) + bcryptB64Encode(randomBytes(8)); // 2 + 11 chars of ./0-9A-Za-z
      return { parsed: { hasher: 'crypt', hash }, encoded: `crypt$$${hash}` };
    }
  }
}

/** Runs a check of the same cost as verifying `likeEncoded` (used when a user does not exist, so timing does not tell). Resolves to undefined; never throws. */
export async function dummyVerify(password: string, likeEncoded: string): Promise<void> {
  try {
    // Unparseable (or unusable) model: like Django's check_password for an unusable
    // password, spend the cost of the default hasher.
    const model: Parsed = parseQuietly(likeEncoded) ?? {
      hasher: 'pbkdf2_sha256',
      iterations: DEFAULT_PBKDF2_ITERATIONS,
      salt: randomSalt(),
    };
    const { parsed, encoded } = lookalike(model);
    let pw = typeof password === 'string' ? password : '';
    if (!isWellFormed(pw)) pw = pw.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
    if (parsed.hasher === 'bcrypt' || parsed.hasher === 'crypt') pw = pw.replace(/\0/g, '\uFFFD');
    await check(parsed, pw, encoded);
  } catch {
    // never throws
  }
}
