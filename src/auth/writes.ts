// The opt-in writes (writes.* in the config), through the write port (src/directory/writer.ts)
// only: a password set over LDAP (Password Modify), last_login after a user bind, and the
// re-hash of a weaker stored hash after a user bind, as Django's login does both.
//
// A bind never waits for a write and never fails because of one: last_login is noted in
// memory (at most once per writes.lastLoginIntervalSeconds per user, counting the last_login
// the bind just read) and written in batches a moment later; a hash upgrade runs after the
// bind has been answered: queued, two at a time, within the hashing budget (dropped, to be
// tried at a later bind, when the budget is spent or the queue is full). Both only ever move forwards: last_login is not set back, and a stored
// hash is replaced only if it is still the one the password was checked against.
import type { Logger } from 'pino';
import type { WritesConfig } from '../config/types.js';
import type { User } from '../directory/model.js';
import type { DirectoryWriter, LastLogin } from '../directory/writer.js';
import { makeSiteHash, needsUpgrade, type HashPolicy } from '../django/hash-policy.js';
import { hashCost } from '../django/hashers/index.js';
import { validatePassword, type PasswordRules, type Refusal } from '../django/password-validation.js';
import type { Authenticator } from './authenticator.js';
import { BusyError } from './hash-gate.js';

/** How long last_login changes are gathered before one batch writes them. */
const LAST_LOGIN_BATCH_MS = 1000;
/** Users whose last write time is remembered (beyond it the oldest are forgotten, and their
 * next bind compares with the last_login it reads). */
const REMEMBERED_USERS = 100_000;
/** Hash upgrades running at once: each costs a full hash of the site's default. */
const MAX_UPGRADES = 2;
/** Hash upgrades waiting (their passwords are held in memory until done). */
const QUEUED_UPGRADES = 1000;

export class Writes {
  private readonly policy: HashPolicy;
  /** user id -> when the bridge last noted a last_login for them (ms). */
  private readonly noted = new Map<number, number>();
  private pending = new Map<number, LastLogin>();
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  /** Users with an upgrade queued or running. */
  private readonly upgrading = new Set<number>();
  private readonly upgradeQueue: { user: User; password: string }[] = [];
  private upgradeWorkers = 0;
  private lastLoginFailing = false;
  private closed = false;

  constructor(
    readonly settings: WritesConfig,
    private readonly writer: DirectoryWriter,
    private readonly rules: PasswordRules,
    private readonly auth: Authenticator,
    private readonly log: Logger,
  ) {
    this.policy = { hasher: settings.hasher, iterations: settings.iterations };
  }

  get kind(): string {
    return this.writer.kind;
  }

  /** The rules a new password for `user` breaks (empty: none). */
  refusals(user: User, password: string): Refusal[] {
    return validatePassword(password, { username: user.username, firstName: user.firstName, lastName: user.lastName, email: user.email }, this.rules);
  }

  /**
   * Sets `user`'s password (its rules already checked): hashed with the site's hasher within
   * the hashing budget (BusyError when it is spent), written only if the stored hash is still
   * the one read in `user`. On success the user's brute-force counters are reset; the
   * credential cache needs nothing (its keys hold the stored hash, which changed). False:
   * the password changed meanwhile and nothing was written.
   */
  async setPassword(user: User, password: string): Promise<boolean> {
    const hash = await this.auth.gate.run(() => makeSiteHash(password, this.policy));
    const ok = await this.writer.setPassword(user.id, hash, user.password);
    if (ok) await this.auth.throttle.forget(`id:${user.id}`);
    return ok;
  }

  /** A user bound with `password`: note last_login and start a hash upgrade, as configured.
   * Returns at once. */
  loggedIn(user: User, password: string): void {
    if (this.closed) return;
    if (this.settings.lastLogin) this.noteLogin(user);
    if (this.settings.upgradeHashes && needsUpgrade(user.password, this.policy)) this.upgrade(user, password);
  }

  private noteLogin(user: User): void {
    const now = Date.now();
    const last = Math.max(user.lastLogin?.getTime() ?? 0, this.noted.get(user.id) ?? 0);
    if (now - last < this.settings.lastLoginIntervalSeconds * 1000) return;
    this.noted.delete(user.id);
    this.noted.set(user.id, now);
    if (this.noted.size > REMEMBERED_USERS) this.noted.delete(this.noted.keys().next().value as number);
    this.pending.set(user.id, { userId: user.id, at: new Date(now) });
    this.timer ??= setTimeout(() => this.track(this.flush()), LAST_LOGIN_BATCH_MS);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Writes the gathered last_login values in one transaction; a failure is logged (once per
   * outage) and those users are noted again at their next bind. */
  private async flush(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    if (!batch.length) return;
    try {
      await this.writer.setLastLogins(batch);
      if (this.lastLoginFailing) this.log.info('last_login is written again');
      this.lastLoginFailing = false;
    } catch (e) {
      for (const l of batch) if (this.noted.get(l.userId) === l.at.getTime()) this.noted.delete(l.userId);
      if (!this.lastLoginFailing) this.log.warn({ users: batch.length, err: (e as Error).message }, 'cannot write last_login (binds are not affected); will retry at later binds');
      this.lastLoginFailing = true;
    }
  }

  /** Queues a re-hash; at most MAX_UPGRADES run at once, and at most QUEUED_UPGRADES wait
   * (beyond that a bind queues nothing and a later bind of the user tries again). */
  private upgrade(user: User, password: string): void {
    if (this.upgrading.has(user.id) || this.upgradeQueue.length >= QUEUED_UPGRADES) return;
    this.upgrading.add(user.id);
    this.upgradeQueue.push({ user, password });
    if (this.upgradeWorkers < MAX_UPGRADES) {
      this.upgradeWorkers++;
      this.track(this.upgradeLoop());
    }
  }

  private async upgradeLoop(): Promise<void> {
    try {
      for (let next = this.upgradeQueue.shift(); next; next = this.upgradeQueue.shift()) await this.upgradeOne(next.user, next.password);
    } finally {
      this.upgradeWorkers--;
    }
  }

  private async upgradeOne(user: User, password: string): Promise<void> {
    const from = hashCost(user.password);
    const to = { hasher: this.policy.hasher, iterations: this.policy.iterations };
    try {
      const hash = await this.auth.gate.run(() => makeSiteHash(password, this.policy));
      const ok = await this.writer.setPassword(user.id, hash, user.password);
      if (ok) this.log.info({ userId: user.id, from, to }, 'password hash upgraded');
      else this.log.info({ userId: user.id }, 'password hash not upgraded: it changed meanwhile');
    } catch (e) {
      if (e instanceof BusyError) return; // the budget is the binds'; a later bind tries again
      this.log.warn({ userId: user.id, from, err: (e as Error).message }, 'password hash upgrade failed (the bind is not affected)');
    } finally {
      this.upgrading.delete(user.id);
    }
  }

  /** Writes what is pending, waits for upgrades in flight, closes the write connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.upgradeQueue.splice(0)) this.upgrading.delete(u.user.id);
    if (this.timer) {
      clearTimeout(this.timer);
      this.track(this.flush());
    }
    await Promise.allSettled([...this.running]);
    await this.writer.close();
  }
}
