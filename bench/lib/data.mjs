// The benchmark's directory, defined by formulas so that the load generator can check every
// answer without asking anyone: the same users, groups and memberships are loaded into the
// bridge's Django databases (SQLite, PostgreSQL) and into slapd (LDIF through slapadd).
//
//   users      u0000001 .. uNNNNNNN (ids 1..N), all active, all with the same password
//   groups     g00001 .. g10000 (ids 1..10000): user i is in group g  <=>  (g-1) % 500 == i % 500
//              (20 groups per user, N/500 members per group)
//   big        group id 10001, "big": users 1..min(N, 100000)
//   perms      500 permissions (app "bench", 50 models x 10): group g holds 2 of them,
//              groupPerms(g), so that a user's 20 groups carry 40 different ones, as groups
//              carry a few permissions each on a real site (a user's entry then holds 60
//              memberOf and 40 djangoPermission values); user i holds perm i % 500 directly
//              (one of those 40)
//   service    cn=apache,ou=services,dc=example,dc=com

export const BASE = 'dc=example,dc=com';
export const USERS_BASE = `ou=users,${BASE}`;
export const GROUPS_BASE = `ou=groups,${BASE}`;
export const SVC_DN = `cn=apache,ou=services,${BASE}`;
export const SVC_PW = 'bench-apache-secret';
export const USER_PW = 'bench-user-password';
export const WRONG_PW = 'not-the-password';
export const GROUPS = 10000;
export const GROUPS_PER_USER = 20;
export const RESIDUES = GROUPS / GROUPS_PER_USER; // 500
export const BIG_ID = GROUPS + 1;
export const BIG_NAME = 'big';
export const BIG_MAX = 100000;
export const PERMISSIONS = 500;
export const PBKDF2_ITERATIONS = 1_000_000;
/** A fixed salt: every user shares ONE stored hash (the brief allows it); cached binds are
 * still per user (the bridge's cache key holds the user id). */
export const SHARED_SALT = 'benchsaltbenchsalt2024';

export const username = (i) => `u${String(i).padStart(7, '0')}`;
export const userDn = (i) => `uid=${username(i)},${USERS_BASE}`;
export const groupName = (g) => (g === BIG_ID ? BIG_NAME : `g${String(g).padStart(5, '0')}`);
export const groupDn = (g) => `cn=${groupName(g)},${GROUPS_BASE}`;

export function isMember(i, g, n) {
  if (g === BIG_ID) return i <= Math.min(n, BIG_MAX);
  if (g < 1 || g > GROUPS) return false;
  return (g - 1) % RESIDUES === i % RESIDUES;
}
/** How many permissions each group (but "big") holds. */
export const PERMS_PER_GROUP = 2;
/** The permissions (0..499) group g holds: its residue spread out by its block of 500, so that
 * the 20 groups of one user (one residue, blocks 0..19) hold 40 different permissions. */
export function groupPerms(g) {
  const r = (g - 1) % RESIDUES;
  const k = Math.floor((g - 1) / RESIDUES);
  const step = RESIDUES / GROUPS_PER_USER; // 25
  return [(r + step * k) % PERMISSIONS, (r + step * k + Math.floor(step / 2)) % PERMISSIONS];
}
/** The k-th (0..19) group of user i. */
export const groupOf = (i, k) => 1 + (i % RESIDUES) + RESIDUES * k;
/** Some group user i is not in (r in [0,1) picks which). */
export function nonGroupOf(i, r1, r2) {
  const res = (i % RESIDUES + 1 + Math.floor(r1 * (RESIDUES - 1))) % RESIDUES;
  return 1 + res + RESIDUES * Math.floor(r2 * GROUPS_PER_USER);
}

/** A small fast PRNG (xorshift32) so runs are reproducible per seed. */
export function rng(seed = 12345) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
