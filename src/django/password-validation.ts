// Django's four stock password validators (django/contrib/auth/password_validation.py, the
// AUTH_PASSWORD_VALIDATORS `startproject` writes), for passwords set over LDAP: minimum length,
// not too similar to the user's attributes, not a common password, not entirely numeric.
// Hand-written: they must answer as Django's do (the same quick_ratio, the same splitting of
// attributes into parts, the same list lookup), which no npm package reproduces.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface PasswordRules {
  /** MinimumLengthValidator.min_length; 0: off. */
  minLength: number;
  /** UserAttributeSimilarityValidator.max_similarity; null: off. */
  maxSimilarity: number | null;
  /** CommonPasswordValidator's list (lower case, stripped); undefined: off. */
  common?: ReadonlySet<string>;
  /** NumericPasswordValidator. */
  numeric: boolean;
}

/** The user attributes the similarity rule compares with, by Django's verbose names. */
export interface UserAttributes {
  username: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
}

/** A refused password: the rule's name (Django's error code) and Django's message. */
export interface Refusal {
  rule: 'password_too_short' | 'password_too_similar' | 'password_too_common' | 'password_entirely_numeric';
  message: string;
}

/** Reads a common-passwords list as CommonPasswordValidator does: gzip, else plain text; one
 * password a line, stripped. Throws with the file's problem (the caller names the setting). */
export function readCommonPasswords(path: string): Set<string> {
  const raw = readFileSync(path);
  let text: string;
  try {
    text = gunzipSync(raw).toString('utf8');
  } catch {
    text = raw.toString('utf8');
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const p = pyStrip(line);
    if (p) out.add(p);
  }
  return out;
}

/** Python's str.strip() (whitespace as Python's isspace sees it, close enough: \s). */
function pyStrip(s: string): string {
  return s.replace(/^\s+|\s+$/gu, '');
}

/** Code points, as Python's len(). */
const chars = (s: string): string[] => [...s];

/** difflib.SequenceMatcher(a=a, b=b).quick_ratio(): the multiset intersection of the two
 * sequences' characters, 2·M / (len(a) + len(b)). */
export function quickRatio(a: string, b: string): number {
  const ca = chars(a);
  const cb = chars(b);
  const total = ca.length + cb.length;
  if (total === 0) return 1;
  const avail = new Map<string, number>();
  for (const c of cb) avail.set(c, (avail.get(c) ?? 0) + 1);
  let matches = 0;
  for (const c of ca) {
    const n = avail.get(c) ?? 0;
    if (n > 0) {
      matches++;
      avail.set(c, n - 1);
    }
  }
  return (2 * matches) / total;
}

/** exceeds_maximum_length_ratio(): a value much shorter than the password is never similar. */
function exceedsMaximumLengthRatio(password: string, maxSimilarity: number, value: string): boolean {
  const pwdLen = chars(password).length;
  const valueLen = chars(value).length;
  return pwdLen >= 10 * valueLen && valueLen < (maxSimilarity / 2) * pwdLen;
}

/** Python's re.split(r'\W+', s): \W is anything but a letter, a digit or "_". */
const NON_WORD = /[^\p{L}\p{N}_]+/u;

/** Every rule the password breaks, in Django's default order (validate_password() reports
 * them all); empty when it passes. */
export function validatePassword(password: string, user: UserAttributes, rules: PasswordRules): Refusal[] {
  const out: Refusal[] = [];
  const n = chars(password).length;
  if (rules.minLength > 0 && n < rules.minLength) {
    out.push({ rule: 'password_too_short', message: `This password is too short. It must contain at least ${rules.minLength} characters.` });
  }
  if (rules.maxSimilarity !== null) {
    const pw = password.toLowerCase();
    const attributes: [string, string | null | undefined][] = [
      ['username', user.username],
      ['first name', user.firstName],
      ['last name', user.lastName],
      ['email address', user.email],
    ];
    similar: for (const [name, value] of attributes) {
      if (!value) continue;
      const lower = value.toLowerCase();
      for (const part of [...lower.split(NON_WORD), lower]) {
        if (exceedsMaximumLengthRatio(pw, rules.maxSimilarity, part)) continue;
        if (quickRatio(pw, part) >= rules.maxSimilarity) {
          out.push({ rule: 'password_too_similar', message: `The password is too similar to the ${name}.` });
          break similar;
        }
      }
    }
  }
  if (rules.common?.has(pyStrip(password.toLowerCase()))) out.push({ rule: 'password_too_common', message: 'This password is too common.' });
  if (rules.numeric && /^\p{Nd}+$/u.test(password)) out.push({ rule: 'password_entirely_numeric', message: 'This password is entirely numeric.' });
  return out;
}
