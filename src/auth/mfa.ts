// One-time codes at bind (mfa.*): who must give one, how a password and its code are told apart,
// and which time steps are already spent.
//
// A user who must give a code sends the password with the code appended (`secret123456`, as
// glauth and lldap take it), or password, separator, code. The code is checked as django-otp's
// TOTPDevice.verify_token does (src/auth/otp.ts) against the user's confirmed devices, read live
// and never written: the bridge does not store last_t or drift back. So that a code is still used
// once, the bridge remembers the last step it accepted per device, in memory and, when
// security.redis is set, in Redis for every bridge sharing it; a step at or below it (or below
// the device's own last_t) is refused, as django-otp refuses steps at or below last_t.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { MfaConfig } from '../config/types.js';
import type { Directory } from '../directory/directory.js';
import type { TotpDeviceRow, User } from '../directory/model.js';
import { verifyTotp } from './otp.js';
import { CredentialCache } from './credential-cache.js';

/** django-otp's default digits: the split used when a user has no confirmed device. */
const DEFAULT_DIGITS = 6;

/** What a user must do at bind: nothing more (undefined), or give a code for one of `devices`
 * (the confirmed ones; empty: the user must give a code and has nothing to give it with). */
export interface CodeNeeded {
  devices: TotpDeviceRow[];
}

export interface Split {
  password: string;
  code: string;
}

/** The password and code of a credential, with the code `digits` long (no separator) or after
 * the last `separator`; without a separator in it, the whole is the password and the code is empty. */
export function splitCredential(credential: string, digits: number, separator: string | null): Split {
  if (separator !== null) {
    const at = credential.lastIndexOf(separator);
    return at < 0 ? { password: credential, code: '' } : { password: credential.slice(0, at), code: credential.slice(at + separator.length) };
  }
  // Code points, not UTF-16 units: a password ending in an emoji still splits where the user typed.
  const chars = [...credential];
  if (chars.length <= digits) return { password: '', code: credential };
  return { password: chars.slice(0, chars.length - digits).join(''), code: chars.slice(chars.length - digits).join('') };
}

export interface CodeVerdict {
  split: Split;
  /** The device and step the code matched (undefined: no match). */
  match?: { deviceId: number; t: number };
}

/**
 * The split and the code's verdict against the confirmed devices, steps at or below `spent`
 * (per device id) refused. Every device is tried, whatever matched, so the time taken does not
 * depend on which device (if any) the code belongs to. With devices of several lengths (a 6- and
 * an 8-digit one), the split whose code matches is taken; when none does, the first device's.
 */
export function checkCode(credential: string, devices: TotpDeviceRow[], separator: string | null, nowSeconds: number, spent: ReadonlyMap<string, number>): CodeVerdict {
  // With a separator the split does not depend on the device: one pass over them all.
  const lengths = separator !== null ? [0] : [...new Set(devices.map((d) => d.digits))];
  if (lengths.length === 0) lengths.push(DEFAULT_DIGITS);
  let chosen: CodeVerdict | undefined;
  for (const digits of lengths) {
    const split = splitCredential(credential, digits, separator);
    for (const d of devices) {
      if (d.digits !== digits && separator === null) continue;
      const lastT = Math.max(d.lastT, spent.get(deviceTag(d)) ?? -1);
      const v = verifyTotp({ ...d, lastT }, split.code, nowSeconds);
      if (v && !chosen?.match) chosen = { split, match: { deviceId: d.id, t: v.t } };
    }
    chosen ??= { split };
  }
  return chosen!;
}

/**
 * What spent steps are remembered under: the device's id and secret, hashed. Not the id alone:
 * two sites (or a restored database) sharing one Redis have devices of the same id, and a device
 * given a new secret starts afresh as django-otp's new device would. A SHA-256 of a 160-bit
 * random secret tells nothing about it.
 */
export function deviceTag(d: Pick<TotpDeviceRow, 'id' | 'key'>): string {
  return createHash('sha256').update(`django-ldap-bridge otp\0${d.id}\0${d.key.toLowerCase()}`).digest('hex').slice(0, 32);
}

/** The last step accepted per device (by deviceTag): here, and in Redis for every bridge sharing it. */
export interface SpentSteps {
  /** The last accepted step of each device (absent: none remembered). */
  last(tags: string[]): Promise<Map<string, number>>;
  /** Records `t` for the device, atomically: false when a step at or above it was already taken. */
  claim(tag: string, t: number, ttlSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Bounded: past this many devices the oldest entries go (they have expired long before on any
 * real site: an entry lives a few steps). */
const MEMORY_MAX = 100_000;

export class MemorySpentSteps implements SpentSteps {
  private readonly steps = new Map<string, { t: number; until: number }>();

  async last(tags: string[]): Promise<Map<string, number>> {
    const now = Date.now();
    const out = new Map<string, number>();
    for (const tag of tags) {
      const e = this.steps.get(tag);
      if (e && e.until > now) out.set(tag, e.t);
    }
    return out;
  }

  async claim(tag: string, t: number, ttlSeconds: number): Promise<boolean> {
    return this.claimNow(tag, t, ttlSeconds);
  }

  /** Synchronous between the read and the write, so two binds cannot both take one step. */
  claimNow(tag: string, t: number, ttlSeconds: number): boolean {
    const now = Date.now();
    const e = this.steps.get(tag);
    if (e && e.until > now && e.t >= t) return false;
    this.steps.delete(tag);
    this.steps.set(tag, { t, until: now + ttlSeconds * 1000 });
    while (this.steps.size > MEMORY_MAX) this.steps.delete(this.steps.keys().next().value as string);
    return true;
  }

  async close(): Promise<void> {}
}

// KEYS[1]: the device's last accepted step. Refuses a step at or below it; else stores it.
const CLAIM_LUA = `
local cur = redis.call('get', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

/**
 * Redis first, memory always: every claim is also made locally, so a Redis that goes away (or
 * answers late) never lets this bridge accept a step twice; other bridges are then only as safe
 * as their own memory, which the log says once.
 */
export class RedisSpentSteps implements SpentSteps {
  private readonly redis: Redis;
  private readonly local = new MemorySpentSteps();
  private readonly prefix = 'django-ldap-bridge:otp:';
  private down = false;

  constructor(
    url: string,
    timeoutMs: number,
    private readonly log: Logger,
  ) {
    // As the brute-force counters' client (throttle.ts): fail fast, no offline queue.
    this.redis = new Redis(url, { commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
    this.redis.on('error', () => {});
    this.redis.defineCommand('otpClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
  }

  private failed(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log.warn({ err: (e as Error).message }, 'redis unavailable: one-time code steps are remembered by this bridge only until it returns');
  }
  private back(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info('redis is back: one-time code steps are shared again');
  }

  async last(tags: string[]): Promise<Map<string, number>> {
    const out = await this.local.last(tags);
    if (tags.length === 0) return out;
    try {
      const vals = await this.redis.mget(...tags.map((tag) => this.prefix + tag));
      this.back();
      tags.forEach((tag, i) => {
        const v = vals[i];
        if (v !== null && v !== undefined) out.set(tag, Math.max(out.get(tag) ?? -Infinity, Number(v)));
      });
    } catch (e) {
      this.failed(e);
    }
    return out;
  }

  async claim(tag: string, t: number, ttlSeconds: number): Promise<boolean> {
    if (!this.local.claimNow(tag, t, ttlSeconds)) return false;
    try {
      const ok = await (this.redis as unknown as { otpClaim(k: string, t: number, ttl: number): Promise<number> }).otpClaim(this.prefix + tag, t, Math.ceil(ttlSeconds));
      this.back();
      return Number(ok) === 1;
    } catch (e) {
      this.failed(e);
      return true;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** How long a spent step must be remembered: while the device could still produce it, i.e. its
 * tolerance window on either side, plus a margin for clocks. */
export function spentTtlSeconds(d: Pick<TotpDeviceRow, 'step' | 'tolerance'>): number {
  return Math.max(120, (2 * d.tolerance + 2) * d.step + 60);
}

/** mfa.* at bind: the policy, the credential cache for password+code, the spent steps. */
export class Mfa {
  /** Password+code credentials that bound, by (user, client address, credential, hash). */
  readonly cache: CredentialCache;

  constructor(
    readonly settings: MfaConfig,
    private readonly directory: Directory,
    readonly spent: SpentSteps,
    cacheEntries: number,
    private readonly log: Logger,
  ) {
    this.cache = new CredentialCache(settings.credentialCacheSeconds * 1000, cacheEntries);
  }

  get enabled(): boolean {
    return this.settings.require.kind !== 'off';
  }

  /** Whether this user must give a code, and with which confirmed devices. */
  async needed(user: User): Promise<CodeNeeded | undefined> {
    const r = this.settings.require;
    if (r.kind === 'off') return undefined;
    const store = this.directory.store;
    const devices = store.totpDevicesOfUser ? (await store.totpDevicesOfUser(user.id)).filter((d) => d.confirmed && /^[0-9a-fA-F]*$/.test(d.key)) : [];
    if (r.kind === 'confirmed-device') return devices.length > 0 ? { devices } : undefined;
    if (r.kind === 'group') {
      if (!store.hasGroups) return undefined;
      const m = await store.groupMembership(r.name, user.username, false);
      return m.member ? { devices } : undefined;
    }
    const p = await this.directory.permission(r.appLabel, r.codename);
    if (!p) return undefined;
    // has_perm: an inactive user holds nothing, but must not slip through because of it (the bind
    // refuses inactive users anyway); so the rule is asked as for an active user.
    if (user.isSuperuser) return { devices };
    return (await store.userHasPermission(user.id, p.id)) ? { devices } : undefined;
  }

  /** Says at start what the policy names that does not exist (nobody would have to give a code). */
  async checkPolicy(): Promise<void> {
    const r = this.settings.require;
    if (r.kind === 'group' && (await this.directory.store.groupsByName(r.name, false)).length === 0) {
      this.log.warn({ group: r.name }, 'mfa.require names a Django group that does not exist: nobody has to give a one-time code until it does');
    }
    if (r.kind === 'permission' && !(await this.directory.permission(r.appLabel, r.codename))) {
      this.log.warn({ permission: `${r.appLabel}.${r.codename}` }, 'mfa.require names a permission that does not exist: nobody has to give a one-time code until it does');
    }
  }
}

/** The spent-step store for the config: Redis when security.redis is set, else memory. */
export function spentSteps(redisUrl: string | null, timeoutMs: number, log: Logger): SpentSteps {
  return redisUrl ? new RedisSpentSteps(redisUrl, timeoutMs, log) : new MemorySpentSteps();
}
