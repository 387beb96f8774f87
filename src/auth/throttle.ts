// Brute-force protection: failed binds are counted per account (or unknown name) and per client
// address in a window; past the threshold that name (or address) is locked out, for a time that
// doubles with each further failure. For user binds the "address" key is the client address with
// a tag of the password tried (sprayKey in authenticator.ts), so a relaying host's users do not
// lock each other out while a password sprayer still is. A locked-out bind is answered like any wrong password (49)
// without spending a hash, and logged with its own outcome.
//
// An attempt is counted when it is about to be hashed, not when its hash ends (reserve): the
// count and the lock decision are one atomic step in every store, so a hundred guesses sent at
// once get at most `threshold` hashes between them. A success gives its attempt back.
//
// Counters live in memory, or in Redis when configured so every bridge of a farm enforces one
// limit. If Redis goes away the bridge carries on with its local counters and says so once.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BridgeConfig } from '../config/types.js';

/** security.bruteForce of the config. */
export type ThrottleSettings = BridgeConfig['security']['bruteForce'];

/** How long a key stays locked: `first` at the threshold, doubling with each failure past it, at
 * most `max` (all in ms). */
export interface LockPolicy {
  threshold: number;
  windowSeconds: number;
  firstMs: number;
  maxMs: number;
}

export function lockMs(p: LockPolicy, over: number): number {
  return Math.min(p.maxMs, p.firstMs * 2 ** Math.min(over, 30));
}

/** Counter storage: fixed-window failure counts and lockout deadlines. */
export interface CounterStore {
  /** Adds one failure; returns the failures in the current window. */
  fail(key: string, windowSeconds: number): Promise<number>;
  /** In one atomic step: 0 when the key is locked (nothing counted); otherwise counts one failure,
   * locks the key when that reaches the policy's threshold, and returns the count. */
  take(key: string, policy: LockPolicy): Promise<number>;
  /** Gives one counted failure back (never below zero, never reviving an expired window), and
   * removes the key's lock when `unlock` (the attempt given back is the one that set it). */
  release(key: string, unlock: boolean): Promise<void>;
  /** Milliseconds of lockout left (0 when not locked). */
  lockRemaining(key: string): Promise<number>;
  lock(key: string, ms: number): Promise<void>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCounters implements CounterStore {
  private readonly counts = new Map<string, { n: number; until: number }>();
  private readonly locks = new Map<string, number>();
  private sweeps = 0;

  // take() must be one step: the helpers below are synchronous, so nothing runs between the
  // lock check, the count and the lock.
  private count(key: string, windowSeconds: number, now: number): number {
    let c = this.counts.get(key);
    if (!c || c.until <= now) this.counts.set(key, (c = { n: 0, until: now + windowSeconds * 1000 }));
    c.n++;
    if (++this.sweeps % 1000 === 0) this.sweep(now);
    return c.n;
  }
  private remaining(key: string, now: number): number {
    const until = this.locks.get(key);
    if (until === undefined) return 0;
    const left = until - now;
    if (left <= 0) this.locks.delete(key);
    return Math.max(0, left);
  }

  async fail(key: string, windowSeconds: number): Promise<number> {
    return this.count(key, windowSeconds, Date.now());
  }
  async take(key: string, policy: LockPolicy): Promise<number> {
    const now = Date.now();
    if (this.remaining(key, now) > 0) return 0;
    const n = this.count(key, policy.windowSeconds, now);
    if (n >= policy.threshold) this.locks.set(key, now + lockMs(policy, n - policy.threshold));
    return n;
  }
  async release(key: string, unlock: boolean): Promise<void> {
    const c = this.counts.get(key);
    if (c && c.until > Date.now() && c.n > 0) c.n--;
    if (unlock) this.locks.delete(key);
  }
  async lockRemaining(key: string): Promise<number> {
    return this.remaining(key, Date.now());
  }
  async lock(key: string, ms: number): Promise<void> {
    this.locks.set(key, Date.now() + ms);
  }
  async reset(key: string): Promise<void> {
    this.counts.delete(key);
    this.locks.delete(key);
  }
  async close(): Promise<void> {}
  /** Whether anything (a failure count or a lock, expired or not) is kept for this key. */
  holds(key: string): boolean {
    return this.counts.has(key) || this.locks.has(key);
  }
  /** Drops expired counters so a spray of random names cannot grow memory without bound. */
  sweep(now = Date.now()): void {
    for (const [k, c] of this.counts) if (c.until <= now) this.counts.delete(k);
    for (const [k, t] of this.locks) if (t <= now) this.locks.delete(k);
  }
}

// take() and release() as Lua scripts, so that every bridge sharing the Redis sees one atomic
// step. KEYS[1] is the failure counter, KEYS[2] the lock.
const TAKE_LUA = `
if redis.call('pttl', KEYS[2]) > 0 then return 0 end
local n = redis.call('incr', KEYS[1])
if redis.call('pttl', KEYS[1]) < 0 then redis.call('pexpire', KEYS[1], ARGV[1]) end
local threshold = tonumber(ARGV[2])
if n >= threshold then
  local ms = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(n - threshold, 30))
  redis.call('set', KEYS[2], '1', 'PX', math.max(1, math.ceil(ms)))
end
return n`;
const RELEASE_LUA = `
if tonumber(redis.call('get', KEYS[1]) or '0') > 0 then redis.call('decr', KEYS[1]) end
if ARGV[1] == '1' then redis.call('del', KEYS[2]) end
return 0`;

interface ThrottleScripts {
  bfTake(counter: string, lock: string, windowMs: number, threshold: number, firstMs: number, maxMs: number): Promise<number>;
  bfRelease(counter: string, lock: string, unlock: '0' | '1'): Promise<number>;
}

export class RedisCounters implements CounterStore {
  private readonly redis: Redis;
  private readonly scripts: ThrottleScripts;
  private readonly prefix = 'django-ldap-bridge:bf:';

  constructor(url: string, timeoutMs = 1000) {
    // Fail fast: a bind must not wait on an absent Redis (no offline queue: a closed connection
    // fails at once); the caller falls back to memory. The timeout is for a Redis that is
    // connected but does not answer: 300 ms was too short on a loaded host, where replies are
    // read late and counters then split between Redis and memory.
    this.redis = new Redis(url, { commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
    this.redis.on('error', () => {});
    this.redis.defineCommand('bfTake', { numberOfKeys: 2, lua: TAKE_LUA });
    this.redis.defineCommand('bfRelease', { numberOfKeys: 2, lua: RELEASE_LUA });
    this.scripts = this.redis as unknown as ThrottleScripts;
  }
  /** Resolves when connected, or after `ms` (then the first commands fall back to memory). */
  ready(ms: number): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.redis.once('ready', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  async fail(key: string, windowSeconds: number): Promise<number> {
    const k = this.prefix + 'n:' + key;
    const r = await this.redis.multi().incr(k).pexpire(k, Math.ceil(windowSeconds * 1000), 'NX').exec();
    if (!r || r[0][0]) throw r?.[0][0] ?? new Error('redis transaction failed');
    return Number(r[0][1]);
  }
  async take(key: string, p: LockPolicy): Promise<number> {
    return Number(await this.scripts.bfTake(this.prefix + 'n:' + key, this.prefix + 'lock:' + key, Math.ceil(p.windowSeconds * 1000), p.threshold, p.firstMs, p.maxMs));
  }
  async release(key: string, unlock: boolean): Promise<void> {
    await this.scripts.bfRelease(this.prefix + 'n:' + key, this.prefix + 'lock:' + key, unlock ? '1' : '0');
  }
  async lockRemaining(key: string): Promise<number> {
    const ms = await this.redis.pttl(this.prefix + 'lock:' + key);
    return ms > 0 ? ms : 0;
  }
  async lock(key: string, ms: number): Promise<void> {
    await this.redis.set(this.prefix + 'lock:' + key, '1', 'PX', Math.max(1, Math.ceil(ms)));
  }
  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + 'n:' + key, this.prefix + 'lock:' + key);
  }
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Redis when it answers, local memory when it does not. */
class FallbackCounters implements CounterStore {
  private degraded = false;
  constructor(
    private readonly primary: CounterStore,
    private readonly local: CounterStore,
    private readonly log: Logger,
  ) {}
  private async use<T>(f: (s: CounterStore) => Promise<T>): Promise<T> {
    try {
      const r = await f(this.primary);
      if (this.degraded) {
        this.degraded = false;
        this.log.info('redis is back: brute-force counters are shared again');
      }
      return r;
    } catch (e) {
      if (!this.degraded) {
        this.degraded = true;
        this.log.warn({ err: (e as Error).message }, 'redis unavailable: brute-force counters are kept locally until it returns');
      }
      return f(this.local);
    }
  }
  fail(key: string, w: number) {
    return this.use((s) => s.fail(key, w));
  }
  take(key: string, p: LockPolicy) {
    return this.use((s) => s.take(key, p));
  }
  release(key: string, unlock: boolean) {
    return this.use((s) => s.release(key, unlock));
  }
  lockRemaining(key: string) {
    return this.use((s) => s.lockRemaining(key));
  }
  lock(key: string, ms: number) {
    return this.use((s) => s.lock(key, ms));
  }
  reset(key: string) {
    return this.use((s) => s.reset(key));
  }
  async close() {
    await this.primary.close();
  }
}

export async function counterStore(redisUrl: string | null, log: Logger, timeoutMs?: number): Promise<CounterStore> {
  if (!redisUrl) return new MemoryCounters();
  const redis = new RedisCounters(redisUrl, timeoutMs);
  if (!(await redis.ready(2000))) log.warn('redis unavailable at start: brute-force counters are kept locally until it answers');
  return new FallbackCounters(redis, new MemoryCounters(), log);
}

/** The failures a reservation counted up front, to give back when its check succeeds or is never
 * made. Keys are the store's ('u:…', 'a:…'); `…Locked` says this attempt set that key's lock. */
export interface Reservation {
  readonly name: string | undefined;
  readonly nameLocked: boolean;
  readonly address: string | undefined;
  readonly addressLocked: boolean;
}

/** With throttling off every attempt may go ahead and nothing is counted. */
export const NOTHING_COUNTED: Reservation = Object.freeze({ name: undefined, nameLocked: false, address: undefined, addressLocked: false });

export class Throttle {
  constructor(
    private readonly s: ThrottleSettings,
    private readonly store: CounterStore,
  ) {}

  /** Whether binds for this name (or from this address, unless exempt) are locked out now. */
  async locked(nameKey: string, address: string | undefined): Promise<boolean> {
    if (!this.s.enabled) return false;
    const checks = [this.store.lockRemaining('u:' + nameKey)];
    if (address !== undefined) checks.push(this.store.lockRemaining('a:' + address));
    return (await Promise.all(checks)).some((ms) => ms > 0);
  }

  /** Counts this attempt as a failure of the name and the address (unless exempt) before its hash
   * runs; undefined (nothing counted) when either is locked out. */
  async reserve(nameKey: string, address: string | undefined): Promise<Reservation | undefined> {
    if (!this.s.enabled) return NOTHING_COUNTED;
    const name = 'u:' + nameKey;
    const n = await this.store.take(name, this.policy(this.s.userFailures, this.s.userWindowSeconds));
    if (n === 0) return undefined;
    const nameLocked = n >= this.s.userFailures;
    if (address === undefined) return { name, nameLocked, address: undefined, addressLocked: false };
    const addr = 'a:' + address;
    const m = await this.store.take(addr, this.policy(this.s.addressFailures, this.s.addressWindowSeconds));
    if (m === 0) {
      await this.store.release(name, nameLocked);
      return undefined;
    }
    return { name, nameLocked, address: addr, addressLocked: m >= this.s.addressFailures };
  }

  /** The reserved attempt succeeded: the address gets it back, and the name either forgets all
   * its failures (`forgetName`: a user who proved their password) or gets back just this one (a
   * service account's count from an address, which may hold a stranger's guesses). */
  async succeeded(r: Reservation, forgetName: boolean): Promise<void> {
    if (r.name !== undefined) await (forgetName ? this.store.reset(r.name) : this.store.release(r.name, r.nameLocked));
    if (r.address !== undefined) await this.store.release(r.address, r.addressLocked);
  }

  /** The reserved attempt got no hash (the budget was spent): the name gets it back, the address
   * keeps it, so a sender flooding the budget is locked out like one guessing. */
  async busy(r: Reservation): Promise<void> {
    if (r.name !== undefined) await this.store.release(r.name, r.nameLocked);
  }

  /** A bind the credential cache accepted: the name's failures are forgotten. */
  async forget(nameKey: string): Promise<void> {
    if (!this.s.enabled) return;
    await this.store.reset('u:' + nameKey);
  }

  /** One failure (or busy answer) counted against an address after the fact, for binds that do
   * not reserve at the address (a service account's: Apache must not be shut out by a lock its
   * neighbours earned). */
  async failedAddress(address: string | undefined): Promise<void> {
    if (!this.s.enabled || address === undefined) return;
    const key = 'a:' + address;
    const p = this.policy(this.s.addressFailures, this.s.addressWindowSeconds);
    const m = await this.store.fail(key, p.windowSeconds);
    if (m >= p.threshold) await this.store.lock(key, lockMs(p, m - p.threshold));
  }

  /** Read from the settings on each use: SIGHUP changes them in place. */
  private policy(threshold: number, windowSeconds: number): LockPolicy {
    return { threshold, windowSeconds, firstMs: this.s.lockoutSeconds * 1000, maxMs: this.s.maxLockoutSeconds * 1000 };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
