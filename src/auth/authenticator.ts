// Password checks with the protections around them, in the order that keeps them honest: a fresh
// read of the account (so a password change or deactivation counts at once), its lockout (no
// hash spent on a locked name), the credential cache, then the attempt is counted as a failure
// before its hash runs (so guesses sent together cannot outrun the lockout), the hashing budget,
// and the Django hasher; a success gives the counted attempt back.
//
// Timing must not tell whether an account exists: a name with no usable hash costs a dummy
// check of the site's most common hash, identical binds arriving together share one check
// whether or not the name exists, and a failed check of another cost (a user on salted MD5, a
// small argon2) is answered no sooner than a dummy would have been: after a typical recent
// dummy's duration, waited on a timer rather than by burning CPU. Hashes costlier than the dummy
// stay slower (SECURITY.md says so).
//
// A check whose client is gone (every connection waiting on it closed or unbound) is dropped
// before its hash: a sprayer who queues binds and hangs up spends no hash, so real users do not
// wait behind them. The attempt was counted before it queued and stays counted: dropping gives
// nothing back, so hanging up is no way to guess for free or to clear a counter.
//
// A user who must give a one-time code (mfa.*, src/auth/mfa.ts) has the password's hash and the
// code checked on every such bind, whichever is wrong: a wrong code costs the same hash and the
// same padding as a wrong password, and counts towards the lockout as one. Only a bind with both
// right takes the code's time step. Such credentials go to the MFA cache (mfa.credentialCacheSeconds),
// keyed on the whole password+code and the client address, never to the password cache.
import { createHash } from 'node:crypto';
import { dummyVerify, hashCost, verifyPassword, type VerifyResult } from '../django/hashers/index.js';
import type { Directory } from '../directory/directory.js';
import type { User } from '../directory/model.js';
import type { Logger } from 'pino';
import { CredentialCache } from './credential-cache.js';
import { checkCode, deviceTag, spentTtlSeconds, type CodeNeeded, type Mfa } from './mfa.js';
import { BusyError, DroppedError, HashGate } from './hash-gate.js';
import { NOTHING_COUNTED, type Reservation, type Throttle } from './throttle.js';

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

/** wrong-code: the password was right (or not: a wrong one says wrong-password) and the code
 * was not, or was spent; no-device: a code is required and the user has no confirmed device. */
export type AuthOutcome = 'success' | 'wrong-password' | 'wrong-code' | 'no-device' | 'unknown-user' | 'inactive' | 'unusable-password' | 'bad-hash' | 'locked-out' | 'busy' | 'dropped';

export interface AuthResult {
  outcome: AuthOutcome;
  user?: User;
  /** True when the credential cache answered (no hash computed). */
  cached?: boolean;
  /** The password without its one-time code, on a success that needed one (for writes.*). */
  password?: string;
}

export interface Attempt {
  /** The name the client tried (a username, or a service DN's key). */
  name: string;
  password: string;
  /** The client address for per-address throttling; undefined when the connection is exempt. */
  address: string | undefined;
  /** Fires when the client no longer waits for the answer (its connection closed or unbound):
   * the check is then dropped before its hash, unless another client waits on it too. */
  gone?: AbortSignal;
  /** The client's address even on an exempt connection: a password+code is accepted again from
   * the cache only from where it was first sent (mfa.credentialCacheSeconds). */
  origin?: string;
}

/**
 * The per-address counter an attempt goes to: its address and a 16-bit tag of its password.
 * A password sprayer (one password, many names) fills one counter and is locked out for that
 * password from that address, without a hash, whoever the name; a relaying host (a mail server,
 * an SSSD host, a web app binding each user) sends many users' different wrong passwords, which
 * fall on different counters, so its other users' right passwords still bind. Guesses per
 * account stay capped by the account's own counter. Sixteen bits of an unkeyed SHA-256 (the
 * same on every bridge sharing Redis) are all that is kept: too few to test a password against.
 */
export function sprayKey(a: Pick<Attempt, 'address' | 'password'>): string | undefined {
  if (a.address === undefined) return undefined;
  return `${a.address} pw:${createHash('sha256').update('django-ldap-bridge spray\0').update(a.password).digest('hex').slice(0, 4)}`;
}

/** What one password check came to. Identical binds arriving together share one. */
interface Check {
  /** Set when no password was checked: the name or address is locked out, the budget is spent,
   * or nobody waited for the answer any more. */
  readonly refused?: 'locked-out' | 'busy' | 'dropped';
  readonly result: VerifyResult;
  /** With a one-time code: whether it was right and unspent ('no-device': none to check it with),
   * and the password without it. */
  readonly code?: { verdict: 'ok' | 'wrong' | 'no-device'; password: string };
  /** performance.now() before which a failure is not answered (0: no wait; the check cost
   * what a dummy does). */
  readonly floor: number;
}

const NO_MATCH: VerifyResult = Object.freeze({ ok: false, hasher: 'unknown' as const });
const LOCKED_OUT: Check = Object.freeze({ refused: 'locked-out' as const, result: NO_MATCH, floor: 0 });
const BUSY: Check = Object.freeze({ refused: 'busy' as const, result: NO_MATCH, floor: 0 });
const DROPPED: Check = Object.freeze({ refused: 'dropped' as const, result: NO_MATCH, floor: 0 });
const SERVICE_CACHED: AuthResult = Object.freeze({ outcome: 'success' as const, cached: true });
/** How many recent dummy durations the typical one is taken from: few enough to follow the
 * machine's load within seconds, enough that one outlier does not move it. */
const DUMMY_TIMES = 16;

/** A check in flight that identical binds share, and how many of their clients still wait. */
interface InFlight {
  check: Promise<Check>;
  /** Waiting clients whose connection is open. */
  alive: number;
  /** A client without a `gone` signal waits (one that cannot hang up: a command, a test). */
  held: boolean;
  /** Fired when the last waiting client is gone: the check is dropped before its hash. */
  readonly gone: AbortController;
}

/** A hash's hasher and cost, as a comparable string ('' when it cannot be read). */
const costKey = (encoded: string): string => JSON.stringify(hashCost(encoded) ?? '');

export class Authenticator {
  /** A real stored hash whose cost the dummy check imitates: the most common hasher and cost
   * among the site's users, chosen at start (see chooseSampleHash). It is not updated from
   * binds: on a site with mixed hashers that would make the dummy's cost follow whoever
   * logged in last. */
  private sample = 'pbkdf2_sha256$1000000$dummysaltdummysalt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  private sampleCost = costKey(this.sample);
  /** The last DUMMY_TIMES dummy durations (ms), a ring, and a scratch copy to sort. */
  private readonly dummyTimes = new Float64Array(DUMMY_TIMES);
  private readonly sortedTimes = new Float64Array(DUMMY_TIMES);
  private dummies = 0;
  /** What a cheaper failure waits for (0 before any dummy was measured). */
  private typicalDummyMs = 0;

  constructor(
    private readonly directory: Directory,
    readonly gate: HashGate,
    readonly cache: CredentialCache,
    readonly throttle: Throttle,
    private readonly log: Logger,
    private readonly caseInsensitive: boolean,
    /** One-time codes (mfa.*); absent or off: no user gives one. */
    readonly mfa?: Mfa,
  ) {}

  /** Closes the brute-force counters and the spent-code store (their Redis connections). */
  async close(): Promise<void> {
    await this.mfa?.spent.close();
    await this.throttle.close();
  }

  get sampleHash(): string {
    return this.sample;
  }
  /** A new model for the dummy: its cost is measured again. */
  set sampleHash(hash: string) {
    this.sample = hash;
    this.sampleCost = costKey(hash);
    this.dummies = 0;
    this.typicalDummyMs = 0;
  }

  /** The dummy check's typical duration in ms, which cheaper failures wait for (0 until measured). */
  get dummyCostMs(): number {
    return this.typicalDummyMs;
  }

  /** Checks in flight, by a key of (account or attempted name, password, hash): identical binds
   * arriving together (an Apache child binding its whole pool as the service account) share one
   * check. A made-up name shares as a real one does, so the number of hashes cannot tell them
   * apart; only the first of them is counted against the lockout, as the others guess nothing new.
   * The check is dropped only when every client waiting on it is gone. */
  private readonly inFlight = new Map<string, InFlight>();

  private shared(key: string | undefined, gone: AbortSignal | undefined, check: (gone: AbortSignal | undefined) => Promise<Check>): Promise<Check> {
    if (key === undefined) return check(gone);
    let f = this.inFlight.get(key);
    if (!f) {
      const entry: InFlight = { check: undefined as unknown as Promise<Check>, alive: 0, held: false, gone: new AbortController() };
      this.inFlight.set(key, entry);
      entry.check = check(entry.gone.signal).finally(() => {
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
      });
      f = entry;
    }
    return this.join(key, f, gone);
  }

  /** Waits on a shared check as one more client; the last client to go drops it. */
  private async join(key: string, f: InFlight, gone: AbortSignal | undefined): Promise<Check> {
    const left = () => {
      if (--f.alive === 0 && !f.held) this.drop(key, f);
    };
    if (gone === undefined) f.held = true;
    else if (!gone.aborted) {
      f.alive++;
      gone.addEventListener('abort', left, { once: true });
    }
    // A client that arrives gone, on a check nobody else waits for, drops it at once.
    if (f.alive === 0 && !f.held) this.drop(key, f);
    try {
      return await f.check;
    } finally {
      gone?.removeEventListener('abort', left);
    }
  }

  private drop(key: string, f: InFlight): void {
    // Out of the map at once, in the same turn: a client arriving later starts its own check
    // rather than joining one that is being dropped.
    if (this.inFlight.get(key) === f) this.inFlight.delete(key);
    f.gone.abort();
  }

  /** Runs one check within the hashing budget: the stored hash (plus a dummy when it cannot be
   * checked), or a dummy alone when there is no hash. Busy gives the name its attempt back; a
   * check dropped because its clients are gone gives nothing back (the attempt stays counted). */
  private async hash(password: string, stored: string | undefined, knownName: boolean, reservation: Reservation, gone: AbortSignal | undefined): Promise<Check> {
    let floor = 0;
    try {
      const result = await this.gate.run(async () => {
        const started = performance.now();
        if (stored === undefined) {
          await this.dummy(password);
          return NO_MATCH;
        }
        const r = await verifyPassword(password, stored);
        // A hash that cannot be checked costs what a real one does.
        if (r.problem) await this.dummy(password);
        else if (costKey(stored) !== this.sampleCost) {
          // Another cost than the dummy's: a failure waits as a dummy would have. The first one
          // before any dummy was measured spends one, to measure it.
          if (!r.ok && this.dummies === 0) await this.dummy(password);
          floor = started + this.typicalDummyMs;
        }
        return r;
      }, knownName, gone);
      return { result, floor };
    } catch (e) {
      if (e instanceof DroppedError) return DROPPED;
      if (!(e instanceof BusyError)) throw e;
      await this.throttle.busy(reservation);
      return BUSY;
    }
  }

  private async dummy(password: string): Promise<void> {
    const t = performance.now();
    await dummyVerify(password, this.sample);
    this.dummyTimes[this.dummies++ % DUMMY_TIMES] = performance.now() - t;
    // The median, not the mean: a dummy's time under load has a long tail. Over a short window,
    // so that it follows a changing load (over 32 it lagged a rising one: padded failures came
    // out 5-25% faster than dummies under scripts/under-load.js; over 16, within a few percent).
    const n = Math.min(this.dummies, DUMMY_TIMES);
    const sorted = this.sortedTimes.subarray(0, n);
    sorted.set(this.dummyTimes.subarray(0, n));
    this.typicalDummyMs = sorted.sort()[n >> 1];
  }

  /** Waits, without burning CPU, until `floor` (a performance.now() time) has passed. A timer
   * alone can end early: it counts from the event loop's clock, read when the loop last woke,
   * which on a loaded host is milliseconds behind (a padded failure once answered 1.1 ms sooner
   * than the dummy it imitates). So it waits again until the floor has really passed. */
  private pad(floor: number): Promise<void> | undefined {
    return floor > performance.now() ? padUntil(floor) : undefined;
  }

  private async refused(check: Check, arrived: number): Promise<AuthResult> {
    // Busy is answered at once, and alike for every name; a dropped check's answer goes nowhere.
    if (check.refused === 'busy') return { outcome: 'busy' };
    if (check.refused === 'dropped') return { outcome: 'dropped' };
    await this.pad(arrived + this.typicalDummyMs);
    return { outcome: 'locked-out' };
  }

  private nameKey(name: string): string {
    return this.caseInsensitive ? name.toLowerCase() : name;
  }

  /** A Django user's bind. */
  async user(a: Attempt): Promise<AuthResult> {
    const arrived = performance.now();
    const user = await this.directory.loginUser(a.name);
    // Counted by the account the name resolves to, so that with case-insensitive names the owner
    // of "Alice" does not clear the failures of "alice"; a name that resolves to nobody, by name.
    const counter = user ? `id:${user.id}` : `name:${this.nameKey(a.name)}`;
    if (await this.throttle.locked(counter, sprayKey(a))) return this.refused(LOCKED_OUT, arrived);
    if (!user) {
      // A name with no account asks the one-time-code policy the same database questions as a
      // user with no device, so those queries do not tell the two apart.
      if (this.mfa?.enabled) await this.mfa.needed({ id: -1, username: a.name, password: '', isActive: false, isSuperuser: false } as unknown as User);
      return this.unknown(a, counter, arrived);
    }
    const need = this.mfa?.enabled ? await this.mfa.needed(user) : undefined;
    if (need) return this.userWithCode(user, a, counter, need, arrived);

    const cacheKey = this.cache.enabled ? this.cache.key(user.id, a.password, user.password) : undefined;
    if (cacheKey !== undefined && user.isActive && this.cache.has(cacheKey)) {
      await this.throttle.forget(counter);
      return { outcome: 'success', user, cached: true };
    }
    const check = await this.shared(cacheKey, a.gone, (gone) => this.checkUser(user, a, counter, cacheKey, gone));
    if (check.refused) return this.refused(check, arrived);
    const r = check.result;
    if (r.ok && user.isActive) return { outcome: 'success', user };
    await this.pad(check.floor);
    return { outcome: r.problem === 'unusable' ? 'unusable-password' : r.problem ? 'bad-hash' : !r.ok ? 'wrong-password' : 'inactive' };
  }

  private async checkUser(user: User, a: Attempt, counter: string, cacheKey: string | undefined, gone: AbortSignal | undefined): Promise<Check> {
    const reservation = await this.throttle.reserve(counter, sprayKey(a));
    if (!reservation) return LOCKED_OUT;
    const check = await this.hash(a.password, user.password, true, reservation, gone);
    const r = check.result;
    if (r.problem && r.problem !== 'unusable') this.log.warn({ userId: user.id, hasher: r.hasher, problem: r.problem }, 'stored password hash cannot be checked');
    if (r.ok && user.isActive) {
      if (cacheKey) this.cache.add(cacheKey);
      await this.throttle.succeeded(reservation, true);
    }
    return check;
  }

  /** A bind that must carry a one-time code. The password+code is cached (and identical binds
   * arriving together share one check) by the whole credential and the client's address, for
   * mfa.credentialCacheSeconds: the same credential re-sent from the same place (Apache, once per
   * request) passes without a new code for that long, and from anywhere else it needs a fresh,
   * unspent step. */
  private async userWithCode(user: User, a: Attempt, counter: string, need: CodeNeeded, arrived: number): Promise<AuthResult> {
    const mfa = this.mfa!;
    const cacheKey = mfa.cache.key(`${user.id}@${a.origin ?? a.address ?? ''}`, a.password, user.password);
    if (user.isActive && need.devices.length > 0 && mfa.cache.has(cacheKey)) {
      await this.throttle.forget(counter);
      return { outcome: 'success', user, cached: true };
    }
    const check = await this.shared(cacheKey, a.gone, (gone) => this.checkUserWithCode(user, a, counter, need, cacheKey, gone));
    if (check.refused) return this.refused(check, arrived);
    const r = check.result;
    const code = check.code!;
    if (r.ok && user.isActive && code.verdict === 'ok') return { outcome: 'success', user, password: code.password };
    await this.pad(check.floor);
    if (r.problem === 'unusable') return { outcome: 'unusable-password' };
    if (r.problem) return { outcome: 'bad-hash' };
    if (!r.ok) return { outcome: 'wrong-password' };
    if (!user.isActive) return { outcome: 'inactive' };
    return { outcome: code.verdict === 'no-device' ? 'no-device' : 'wrong-code' };
  }

  private async checkUserWithCode(user: User, a: Attempt, counter: string, need: CodeNeeded, cacheKey: string, gone: AbortSignal | undefined): Promise<Check> {
    const mfa = this.mfa!;
    // The steps this bridge (or, with Redis, any bridge) already accepted, read before the hash
    // whatever the code: the read costs the same for a right code and a wrong one.
    const spent = await mfa.spent.last(need.devices.map(deviceTag));
    const verdict = checkCode(a.password, need.devices, mfa.settings.separator, Date.now() / 1000, spent);
    const password = verdict.split.password;
    // The spray tag is the password's, not the code's: a sprayer trying one password with many
    // codes still fills one counter.
    const reservation = await this.throttle.reserve(counter, sprayKey({ address: a.address, password }));
    if (!reservation) return LOCKED_OUT;
    const check = await this.hash(password, user.password, true, reservation, gone);
    const r = check.result;
    if (r.problem && r.problem !== 'unusable') this.log.warn({ userId: user.id, hasher: r.hasher, problem: r.problem }, 'stored password hash cannot be checked');
    let ok: 'ok' | 'wrong' | 'no-device' = need.devices.length === 0 ? 'no-device' : verdict.match ? 'ok' : 'wrong';
    if (r.ok && user.isActive && ok === 'ok') {
      // Taken only now, with the password right: a guess cannot spend the user's code. Another
      // bind that took the step meanwhile (here or on another bridge) wins.
      const m = verdict.match!;
      const device = need.devices.find((d) => d.id === m.deviceId)!;
      if (!(await mfa.spent.claim(deviceTag(device), m.t, spentTtlSeconds(device)))) ok = 'wrong';
    }
    if (r.ok && user.isActive && ok === 'ok') {
      mfa.cache.add(cacheKey);
      await this.throttle.succeeded(reservation, true);
    } else if (r.ok && user.isActive && ok === 'no-device') {
      // The bind's own log line says no-device; this one says what to do about it. No secrets.
      this.log.warn({ userId: user.id, username: user.username }, 'bind refused: mfa.require asks this user for a one-time code and the user has no confirmed TOTP device (django-otp)');
    }
    return { ...check, code: { verdict: ok, password } };
  }

  /** A name with no account: a dummy check, counted and shared like a real one. */
  private async unknown(a: Attempt, counter: string, arrived: number): Promise<AuthResult> {
    const shareKey = this.cache.enabled ? this.cache.key(`?${counter}`, a.password, this.sample) : undefined;
    const check = await this.shared(shareKey, a.gone, async (gone) => {
      const reservation = await this.throttle.reserve(counter, sprayKey(a));
      return reservation ? this.hash(a.password, undefined, false, reservation, gone) : LOCKED_OUT;
    });
    if (check.refused) return this.refused(check, arrived);
    return { outcome: 'unknown-user' };
  }

  /** A service account's bind against its configured hash. */
  async service(a: Attempt, hash: string): Promise<AuthResult> {
    // Apache's hot path: the credential it proved before, from this address (or on an exempt
    // connection), passes at once, whatever lock strangers earned here (a lock stops guessing,
    // and this is no guess).
    const cacheKey = this.cache.enabled ? this.cache.key(0, a.password, hash) : undefined;
    const provenFrom = cacheKey === undefined ? undefined : this.cache.pinned(hash, cacheKey);
    if (provenFrom !== undefined && (a.address === undefined || provenFrom.has(a.address))) return SERVICE_CACHED;

    const arrived = performance.now();
    // Counted per (account, address), so a stranger's guesses lock the account only for the
    // stranger's address; an exempt connection (a trusted address, or one that already bound as
    // a service account) is never locked. The address lock does not apply: Apache must not be
    // shut out because a neighbour on its host sprayed passwords.
    const counter = a.address === undefined ? undefined : `service:${a.name} from ${a.address}`;
    if (counter !== undefined && (await this.throttle.locked(counter, undefined))) return this.refused(LOCKED_OUT, arrived);
    if (provenFrom !== undefined) {
      // The pinned credential from a new address that is not locked: a cache hit.
      this.cache.pin(hash, cacheKey!, a.address);
      return SERVICE_CACHED;
    }
    const check = await this.shared(cacheKey, a.gone, (gone) => this.checkService(a, hash, counter, cacheKey, gone));
    if (check.refused) return this.refused(check, arrived);
    if (check.result.ok) return { outcome: 'success' };
    await this.pad(check.floor);
    return { outcome: check.result.problem ? 'bad-hash' : 'wrong-password' };
  }

  private async checkService(a: Attempt, hash: string, counter: string | undefined, cacheKey: string | undefined, gone: AbortSignal | undefined): Promise<Check> {
    const reservation = counter === undefined ? NOTHING_COUNTED : await this.throttle.reserve(counter, undefined);
    if (!reservation) return LOCKED_OUT;
    const check = await this.hash(a.password, hash, true, reservation, gone);
    if (check.result.ok) {
      if (cacheKey) this.cache.pin(hash, cacheKey, a.address);
      await this.throttle.succeeded(reservation, false);
    } else {
      // A failure, a busy answer or a dropped check still counts against the sender's address.
      await this.throttle.failedAddress(sprayKey(a));
    }
    return check;
  }

  /** A bind for a name that is no account at all (a DN outside the user tree). */
  async nobody(a: Attempt): Promise<AuthResult> {
    const arrived = performance.now();
    const counter = `dn:${a.name}`;
    if (await this.throttle.locked(counter, sprayKey(a))) return this.refused(LOCKED_OUT, arrived);
    return this.unknown(a, counter, arrived);
  }
}

async function padUntil(floor: number): Promise<void> {
  for (let left = floor - performance.now(); left > 0; left = floor - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  }
}
