// Brute-force protection: failed binds are counted per user name and per client address in a
// window; past the threshold that name (or address) is locked out, for a time that doubles with
// each further failure. A locked-out bind is answered like any wrong password (49) without
// spending a hash, and logged with its own outcome.
//
// Counters live in memory, or in Redis when configured so every bridge of a farm enforces one
// limit. If Redis goes away the bridge carries on with its local counters and says so once.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BridgeConfig } from '../config/types.js';

/** security.bruteForce of the config. */
export type ThrottleSettings = BridgeConfig['security']['bruteForce'];

/** Counter storage: fixed-window failure counts and lockout deadlines. */
export interface CounterStore {
  /** Adds one failure; returns the failures in the current window. */
  fail(key: string, windowSeconds: number): Promise<number>;
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

  async fail(key: string, windowSeconds: number): Promise<number> {
    const now = Date.now();
    let c = this.counts.get(key);
    if (!c || c.until <= now) this.counts.set(key, (c = { n: 0, until: now + windowSeconds * 1000 }));
    c.n++;
    if (++this.sweeps % 1000 === 0) this.sweep(now);
    return c.n;
  }
  async lockRemaining(key: string): Promise<number> {
    const until = this.locks.get(key);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left <= 0) this.locks.delete(key);
    return Math.max(0, left);
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

export class RedisCounters implements CounterStore {
  private readonly redis: Redis;
  private readonly prefix = 'django-ldap-bridge:bf:';

  constructor(url: string) {
    // Fail fast: a bind must not wait on an absent Redis; the caller falls back to memory.
    this.redis = new Redis(url, { commandTimeout: 300, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
    this.redis.on('error', () => {});
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

export async function counterStore(redisUrl: string | null, log: Logger): Promise<CounterStore> {
  if (!redisUrl) return new MemoryCounters();
  const redis = new RedisCounters(redisUrl);
  if (!(await redis.ready(2000))) log.warn('redis unavailable at start: brute-force counters are kept locally until it answers');
  return new FallbackCounters(redis, new MemoryCounters(), log);
}

export class Throttle {
  constructor(
    private readonly s: ThrottleSettings,
    private readonly store: CounterStore,
  ) {}

  /** Whether binds for this name (or from this address, unless exempt) are locked out now. */
  async locked(userKey: string, address: string | undefined): Promise<boolean> {
    if (!this.s.enabled) return false;
    const checks = [this.store.lockRemaining('u:' + userKey)];
    if (address !== undefined) checks.push(this.store.lockRemaining('a:' + address));
    return (await Promise.all(checks)).some((ms) => ms > 0);
  }

  async failed(userKey: string, address: string | undefined): Promise<void> {
    if (!this.s.enabled) return;
    const n = await this.store.fail('u:' + userKey, this.s.userWindowSeconds);
    if (n >= this.s.userFailures) await this.store.lock('u:' + userKey, this.lockMs(n - this.s.userFailures));
    if (address !== undefined) {
      const m = await this.store.fail('a:' + address, this.s.addressWindowSeconds);
      if (m >= this.s.addressFailures) await this.store.lock('a:' + address, this.lockMs(m - this.s.addressFailures));
    }
  }

  async succeeded(userKey: string): Promise<void> {
    if (!this.s.enabled) return;
    await this.store.reset('u:' + userKey);
  }

  private lockMs(over: number): number {
    return Math.min(this.s.maxLockoutSeconds, this.s.lockoutSeconds * 2 ** Math.min(over, 30)) * 1000;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
