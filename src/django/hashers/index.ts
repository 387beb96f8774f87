// Django password hashes: the one list of hashers this bridge knows, and what the rest of the
// bridge asks of them (identify, verify, make, cost, dummy check), matching
// django/contrib/auth/hashers.py: identify_hasher(), check_password() and make_password().
// Hand-written: Django accepts only values that re-encode to exactly the stored text, which no
// password library on npm checks.
//
// Django verifies almost every format by re-encoding the password with the parameters read
// from the stored value and comparing the *whole* string, so anything that does not re-encode
// to exactly the stored text (stripped base64 padding, a zero-padded iteration count,
// upper-case hex, stray whitespace...) fails. Where Django raises (ValueError,
// AssertionError, InvalidHash, UnicodeEncodeError...) the check is a failure here too,
// reported as `problem: 'malformed'`.
//
// Nothing in these modules logs, and no error message they produce contains a password or hash.

import { argon2 } from './argon2.js';
import { bcrypt, bcryptSha256 } from './bcrypt.js';
import { crypt } from './crypt.js';
import type { HashCost, Hasher } from './hasher.js';
import { DJANGO_DEFAULT_PBKDF2, pbkdf2Sha1, pbkdf2Sha256 } from './pbkdf2.js';
import { md5, sha1 } from './salted.js';
import { scrypt } from './scrypt.js';
import { unsaltedMd5, unsaltedSha1 } from './unsalted.js';
import { codePointLength, isWellFormed, LONE_SURROGATE, pySplit } from './util.js';

/** Every hasher Django has shipped; a new one is a module and a line here. */
const HASHERS = [
  pbkdf2Sha256,
  pbkdf2Sha1,
  argon2,
  bcryptSha256,
  bcrypt,
  scrypt,
  sha1,
  md5,
  unsaltedMd5,
  unsaltedSha1,
  crypt,
] as const;

export type HasherName = (typeof HASHERS)[number]['algorithm'];

/** The algorithm name of every registered hasher. */
export const HASHER_NAMES: readonly HasherName[] = HASHERS.map((h) => h.algorithm);

/** The hashers makePassword can make with. */
type MakingHasherName = Extract<(typeof HASHERS)[number], { make: unknown }>['algorithm'];

/** Django's PASSWORD_HASHERS[0]: what makePassword makes, and what a dummy check costs when
 * there is no usable hash to model it on. */
const DEFAULT_HASHER = pbkdf2Sha256;
const DEFAULT_PARAMETERS = DJANGO_DEFAULT_PBKDF2;

/** Any registered hasher: the registry hands each only values that hasher parsed. */
type Registered = Hasher<unknown, HasherName>;
const REGISTERED: readonly Registered[] = HASHERS;

const BY_ALGORITHM: ReadonlyMap<string, Registered> = new Map(REGISTERED.map((h) => [h.algorithm, h]));
/** Hashers that recognise values without their name in front, in the order Django asks. */
const CLAIMING = REGISTERED.filter((h) => h.claims);
const MAKING = REGISTERED.filter((h) => h.make).map((h) => h.algorithm);

export interface VerifyResult {
  ok: boolean; // true only if Django's check_password would return True
  hasher: HasherName | 'unusable' | 'unknown';
  /** set when ok is false for a reason other than a wrong password */
  problem?: 'unusable' | 'unknown-hasher' | 'malformed';
}

/** identify_hasher(): the hasher that reads `encoded`, without checking that it can. */
function find(encoded: string): Registered | 'unusable' | 'unknown' {
  if (typeof encoded !== 'string') return 'unknown';
  // is_password_usable(): anything starting with UNUSABLE_PASSWORD_PREFIX. An empty value is
  // rejected by identify_hasher() (no algorithm ''), which we report as unusable as well.
  if (encoded === '' || encoded.startsWith('!')) return 'unusable';
  const codePoints = codePointLength(encoded);
  for (let i = 0; i < CLAIMING.length; i++) {
    const hasher = CLAIMING[i] as Registered;
    if (hasher.claims?.(encoded, codePoints)) return hasher;
  }
  return BY_ALGORITHM.get(pySplit(encoded, '$', 1)[0] ?? '') ?? 'unknown';
}

/** identify like Django's identify_hasher (no verification); 'unusable' for '' or '!...', 'unknown' otherwise. */
export function identifyHasher(encoded: string): HasherName | 'unusable' | 'unknown' {
  const hasher = find(encoded);
  return typeof hasher === 'string' ? hasher : hasher.algorithm;
}

/** Never throws, never rejects: any error is { ok:false, problem:'malformed' }. */
export async function verifyPassword(password: string, encoded: string): Promise<VerifyResult> {
  let name: VerifyResult['hasher'] = 'unknown';
  try {
    if (typeof encoded !== 'string') return { ok: false, hasher: 'unknown', problem: 'malformed' };
    const hasher = find(encoded);
    if (hasher === 'unusable') return { ok: false, hasher, problem: 'unusable' };
    if (hasher === 'unknown') return { ok: false, hasher, problem: 'unknown-hasher' };
    name = hasher.algorithm;
    // Python cannot UTF-8-encode lone surrogates: Django raises, so the check fails.
    if (typeof password !== 'string' || !isWellFormed(password) || !isWellFormed(encoded)) {
      return { ok: false, hasher: name, problem: 'malformed' };
    }
    const ok = await hasher.check(hasher.parse(encoded), password, encoded);
    return ok ? { ok: true, hasher: name } : { ok: false, hasher: name };
  } catch {
    return { ok: false, hasher: name, problem: 'malformed' };
  }
}

/** Django's make_password for pbkdf2_sha256 (default iterations 1_000_000, random 22-char salt from Django's alphabet) — used by a `hash-password` CLI command. */
export async function makePassword(
  password: string,
  opts: { hasher?: MakingHasherName; iterations?: number; salt?: string } = {},
): Promise<string> {
  const hasher = BY_ALGORITHM.get(opts.hasher ?? DEFAULT_HASHER.algorithm);
  if (!hasher?.make) throw new TypeError(`makePassword: only ${MAKING.join(', ')} is supported`);
  if (typeof password !== 'string') throw new TypeError('makePassword: password must be a string');
  if (!isWellFormed(password)) throw new TypeError('makePassword: password is not valid Unicode');
  return hasher.make(password, opts);
}

/** The hasher of a value that could be parsed: a string Python can encode, of a known hasher. */
function parsableHasher(encoded: string): Registered | undefined {
  if (typeof encoded !== 'string' || !isWellFormed(encoded)) return undefined;
  const hasher = find(encoded);
  return typeof hasher === 'string' ? undefined : hasher;
}

/** A description of the work one check of `encoded` costs, e.g. { hasher:'pbkdf2_sha256', iterations:260000 } or { hasher:'bcrypt', rounds:12 }, for logs and for choosing a dummy check; undefined when unparseable. */
export function hashCost(encoded: string): HashCost | undefined {
  const hasher = parsableHasher(encoded);
  try {
    return hasher?.cost(hasher.parse(encoded));
  } catch {
    return undefined;
  }
}

/** Why `encoded` is cheap to guess against (the hasher's own judgement, e.g. 'salted MD5'), or
 * undefined: not weak, or not a hash this registry can parse. */
export function hashWeakness(encoded: string): string | undefined {
  const hasher = parsableHasher(encoded);
  try {
    return hasher?.weakness?.(hasher.parse(encoded));
  } catch {
    return undefined;
  }
}

/** Runs a check of the same cost as verifying `likeEncoded` (used when a user does not exist, so timing does not tell). Resolves to undefined; never throws. */
export async function dummyVerify(password: string, likeEncoded: string): Promise<void> {
  try {
    // Unparseable (or unusable) model: like Django's check_password for an unusable
    // password, spend the cost of the default hasher.
    let hasher: Registered = DEFAULT_HASHER;
    let model: unknown = DEFAULT_PARAMETERS;
    const found = parsableHasher(likeEncoded);
    if (found) {
      try {
        model = found.parse(likeEncoded);
        hasher = found;
      } catch {
        // keep the default
      }
    }
    const { parsed, encoded } = hasher.lookalike(model);
    let pw = typeof password === 'string' ? password : '';
    if (!isWellFormed(pw)) pw = pw.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
    if (hasher.refusesNul) pw = pw.replace(/\0/g, '\uFFFD');
    await hasher.check(parsed, pw, encoded);
  } catch {
    // never throws
  }
}
