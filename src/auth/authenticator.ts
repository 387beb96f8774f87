// Password checks with the protections around them, in the order that keeps them honest:
// lockout first (no hash spent on a locked name), then a fresh read of the user (so a password
// change or deactivation counts at once), the credential cache, the hashing budget, and the
// Django hasher. Every failure without a real hash to check spends a dummy check of the same
// cost, so timing does not tell whether an account exists.
import { dummyVerify, hashCost, verifyPassword, type VerifyResult } from '../django/hashers/index.js';

/** The most common (hasher, cost) among stored hashes, as one of them. */
export function chooseSampleHash(hashes: string[]): string | undefined {
  const groups = new Map<string, { n: number; hash: string }>();
  for (const h of hashes) {
    const cost = hashCost(h);
    if (!cost) continue;
    const key = JSON.stringify(cost);
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { n: 1, hash: h });
  }
  let best: { n: number; hash: string } | undefined;
  for (const g of groups.values()) if (!best || g.n > best.n) best = g;
  return best?.hash;
}
import type { Directory } from '../directory/directory.js';
import type { User } from '../directory/model.js';
import type { Logger } from 'pino';
import { CredentialCache } from './credential-cache.js';
import { BusyError, HashGate } from './hash-gate.js';
import type { Throttle } from './throttle.js';

export type AuthOutcome = 'success' | 'wrong-password' | 'unknown-user' | 'inactive' | 'unusable-password' | 'bad-hash' | 'locked-out' | 'busy';

export interface AuthResult {
  outcome: AuthOutcome;
  user?: User;
  /** True when the credential cache answered (no hash computed). */
  cached?: boolean;
}

export interface Attempt {
  /** The name the client tried (a username, or a service DN's key). */
  name: string;
  password: string;
  /** The client address for per-address throttling; undefined when the connection is exempt. */
  address: string | undefined;
}

export class Authenticator {
  /** A real stored hash whose cost the dummy check imitates: the most common hasher and cost
   * among the site's users, chosen at start (see chooseSampleHash). It is not updated from
   * binds: on a site with mixed hashers that would make the dummy's cost follow whoever
   * logged in last. */
  sampleHash = 'pbkdf2_sha256$1000000$dummysaltdummysalt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

  constructor(
    private readonly directory: Directory,
    readonly gate: HashGate,
    readonly cache: CredentialCache,
    readonly throttle: Throttle,
    private readonly log: Logger,
    private readonly caseInsensitive: boolean,
  ) {}

  /** Checks in flight, by credential-cache key: identical binds arriving together (an Apache
   * child starting binds its whole pool as the service account) share one hash. */
  private readonly inFlight = new Map<string, Promise<VerifyResult>>();

  private verifyShared(password: string, encoded: string, key: string | undefined): Promise<VerifyResult> {
    if (key === undefined) return this.gate.run(() => verifyPassword(password, encoded));
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.gate.run(() => verifyPassword(password, encoded)).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private userKey(name: string): string {
    return this.caseInsensitive ? name.toLowerCase() : name;
  }

  /** Costs one dummy check inside the hashing budget (busy when saturated). */
  async spendDummy(password: string): Promise<AuthResult | undefined> {
    try {
      await this.gate.run(() => dummyVerify(password, this.sampleHash));
      return undefined;
    } catch (e) {
      if (e instanceof BusyError) return { outcome: 'busy' };
      throw e;
    }
  }

  private async fail(a: Attempt, outcome: AuthOutcome): Promise<AuthResult> {
    await this.throttle.failed(this.userKey(a.name), a.address);
    return { outcome };
  }

  /** A Django user's bind. */
  async user(a: Attempt): Promise<AuthResult> {
    const key = this.userKey(a.name);
    if (await this.throttle.locked(key, a.address)) return { outcome: 'locked-out' };
    const user = await this.directory.loginUser(a.name);
    if (!user) return (await this.spendDummy(a.password)) ?? (await this.fail(a, 'unknown-user'));

    let cacheKey: string | undefined;
    if (this.cache.enabled && user.isActive) {
      cacheKey = this.cache.key(user.id, a.password, user.password);
      if (this.cache.has(cacheKey)) {
        await this.throttle.succeeded(key);
        return { outcome: 'success', user, cached: true };
      }
    }
    let r;
    try {
      r = await this.verifyShared(a.password, user.password, cacheKey);
    } catch (e) {
      if (e instanceof BusyError) return { outcome: 'busy' };
      throw e;
    }
    if (r.problem === 'unusable') return (await this.spendDummy(a.password)) ?? (await this.fail(a, 'unusable-password'));
    if (r.problem) {
      this.log.warn({ userId: user.id, hasher: r.hasher, problem: r.problem }, 'stored password hash cannot be checked');
      return (await this.spendDummy(a.password)) ?? (await this.fail(a, 'bad-hash'));
    }
    if (!r.ok) return this.fail(a, 'wrong-password');
    if (!user.isActive) return this.fail(a, 'inactive');
    if (cacheKey) this.cache.add(cacheKey);
    await this.throttle.succeeded(key);
    return { outcome: 'success', user };
  }

  /** A service account's bind against its configured hash. */
  async service(a: Attempt, hash: string): Promise<AuthResult> {
    // Only the account's own lock applies: an address lock must not shut Apache out because
    // someone else on its host sprayed passwords.
    if (await this.throttle.locked(a.name, undefined)) return { outcome: 'locked-out' };
    const cacheKey = this.cache.enabled ? this.cache.key(0, a.password, hash) : undefined;
    if (cacheKey && this.cache.has(cacheKey)) return { outcome: 'success', cached: true };
    let r;
    try {
      r = await this.verifyShared(a.password, hash, cacheKey);
    } catch (e) {
      if (e instanceof BusyError) return { outcome: 'busy' };
      throw e;
    }
    if (!r.ok) return this.fail(a, r.problem ? 'bad-hash' : 'wrong-password');
    if (cacheKey) this.cache.add(cacheKey);
    await this.throttle.succeeded(a.name);
    return { outcome: 'success' };
  }

  /** A bind for a name that is no account at all (a DN outside the user tree). */
  async nobody(a: Attempt): Promise<AuthResult> {
    if (await this.throttle.locked(a.name, a.address)) return { outcome: 'locked-out' };
    return (await this.spendDummy(a.password)) ?? (await this.fail(a, 'unknown-user'));
  }
}
