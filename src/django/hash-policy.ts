// The site's password hasher for the hashes the bridge writes (writes.hasher, writes.iterations:
// Django's PASSWORD_HASHERS[0] and its work factor), and Django's login-time rule for when a
// stored hash is re-made with it (check_password()'s setter: another hasher, or the preferred
// hasher's must_update(), which for PBKDF2 is a different iteration count; here only a *lower*
// one, so a site that raised the count in Django is never lowered by the bridge).
import { randomInt } from 'node:crypto';
import { hashCost, identifyHasher, makePassword } from './hashers/index.js';

export interface HashPolicy {
  hasher: 'pbkdf2_sha256';
  iterations: number;
}

/** The hash Django's make_password() makes with the site's hasher and cost. */
export function makeSiteHash(password: string, policy: HashPolicy): Promise<string> {
  return makePassword(password, { hasher: policy.hasher, iterations: policy.iterations });
}

/** Whether a stored hash (that the password just matched) should be re-made with the policy. */
export function needsUpgrade(stored: string, policy: HashPolicy): boolean {
  const hasher = identifyHasher(stored);
  if (hasher === 'unusable' || hasher === 'unknown') return false;
  if (hasher !== policy.hasher) return true;
  const iterations = hashCost(stored)?.iterations;
  return typeof iterations === 'number' && iterations < policy.iterations;
}

/** Django's old make_random_password() alphabet: no look-alike characters (l, I, 1, O, 0). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of `length` characters (about 5.8 bits each), for RFC 3062's genPasswd. */
export function generatePassword(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}
