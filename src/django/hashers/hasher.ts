// What every Django password hasher here provides: one object per Django hasher class
// (django/contrib/auth/hashers.py keeps one class per algorithm), registered in index.ts.
// Hand-written rather than taken from a library: Django accepts only a value that re-encodes
// to exactly the stored text, which no password library on npm checks.
//
// A new hasher is a module exporting an object that implements Hasher, and its line in
// index.ts's HASHERS; test/unit/django/hashers/index.test.js then asks for its vectors in
// test/fixtures/django-hashers.json, and hasher-suite.js runs the shared tests on them.

/** What a stored hash costs to check, for logs and for choosing a dummy check:
 * { hasher: 'pbkdf2_sha256', iterations: 260000 }, { hasher: 'md5' }... (no hash material). */
export type HashCost = Record<string, string | number>;

/** What makePassword passes on to a hasher's make(). */
export interface MakeOptions {
  iterations?: number;
  /** '' or undefined: a random salt, as Django's `salt or hasher.salt()`. */
  salt?: string;
}

/**
 * One Django hasher. `Parsed` is what parse() reads out of a stored value: the parameters
 * check() needs, so the value is read once per check.
 *
 * The methods use method syntax on purpose: it lets the registry hold hashers of different
 * `Parsed` types in one list (it only ever hands a hasher what that hasher parsed).
 */
export interface Hasher<Parsed = unknown, Name extends string = string> {
  /** Django's algorithm name, the text before the first '$' of the stored value. */
  readonly algorithm: Name;
  /**
   * Claims a stored value that does not start with `<algorithm>$`, as Django's
   * identify_hasher() special-cases the ancient unsalted formats. `codePoints` is Python's
   * len(encoded). Asked before the algorithm-name lookup.
   */
  claims?(encoded: string, codePoints: number): boolean;
  /** Django's decode() plus the checks its library makes before hashing; throws Malformed
   * (util.ts) for anything Django would raise on. */
  parse(encoded: string): Parsed;
  /** Recomputes what Django would and compares with `encoded` in constant time. Throws
   * Malformed where Django raises for this password. */
  check(parsed: Parsed, password: string, encoded: string): boolean | Promise<boolean>;
  /** Why a value this hasher parsed is cheap to guess against, as `doctor` names it ('salted
   * MD5'); undefined (or no method): not weak. Django's deprecated and test-only hashers (one
   * fast digest per guess) are weak whatever the value says. */
  weakness?(parsed: Parsed): string | undefined;
  /** What hashCost() reports for a value this hasher parsed. */
  cost(parsed: Parsed): HashCost;
  /** A stored value of the same kind and cost with fresh random salt and digest, for a dummy
   * check that takes as long as a real one (check() ignores `encoded` where it can). */
  lookalike(parsed: Parsed): { parsed: Parsed; encoded: string };
  /** check() throws on a NUL in the password (as Django's library raises before hashing),
   * so a dummy check must replace NULs to spend the full cost. */
  readonly refusesNul?: boolean;
  /** Django's make_password() with this hasher (only where makePassword supports it). */
  make?(password: string, options: MakeOptions): Promise<string>;
}
