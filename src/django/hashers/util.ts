// Helpers the Django hashers share: Python's string semantics (split, len, UTF-8 encoding),
// Django's constant-time compare and random salts, and the one error every rejected value
// becomes. Hand-written: they reproduce Python and Django behaviour, not Node's.

import { randomInt, timingSafeEqual } from 'node:crypto';

/** hashlib.pbkdf2_hmac refuses more than INT_MAX iterations (so does Node's crypto.pbkdf2). */
export const INT_MAX = 2_147_483_647;
/** django.utils.crypto.RANDOM_STRING_CHARS */
const RANDOM_STRING_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** ceil(128 bits / log2(62)) — BasePasswordHasher.salt() */
const SALT_LENGTH = 22;

/** Thrown for any value Django would reject (raise on); never carries secret material. */
export class Malformed extends Error {
  constructor() {
    super('malformed password hash');
    this.name = 'Malformed';
  }
}

export function malformed(): never {
  throw new Malformed();
}

/** Python's str.split(sep, maxsplit). */
export function pySplit(s: string, sep: string, maxsplit: number): string[] {
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
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string Python could not .encode('utf-8') (lone surrogates): Django raises on it. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/**
 * Constant-time string equality on UTF-8 bytes (django.utils.crypto.constant_time_compare).
 * Unequal lengths still run a same-length comparison before answering false.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, Buffer.alloc(x.length));
    return false;
  }
  return timingSafeEqual(x, y);
}

/** Canonical positive decimal as Python's "%d" writes it: no sign, no leading zero. */
export const POSITIVE_DECIMAL = /^[1-9][0-9]*$/;

/** django.utils.crypto.get_random_string(length) */
export function randomSalt(length: number = SALT_LENGTH): string {
  let s = '';
  for (let i = 0; i < length; i++) s += RANDOM_STRING_CHARS[randomInt(RANDOM_STRING_CHARS.length)];
  return s;
}

/** make_password()'s `salt or hasher.salt()`, refusing a salt that could not be stored. */
export function saltForMake(salt: string | undefined): string {
  const chosen = salt === undefined || salt === '' ? randomSalt() : salt;
  if (typeof chosen !== 'string' || chosen.includes('$') || !isWellFormed(chosen)) {
    throw new TypeError('makePassword: salt must be a string without "$"');
  }
  return chosen;
}
