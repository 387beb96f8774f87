// The one place that builds what LDAP operations run on, from a resolved config: the store
// (opened, its mapped schema checked), the tree and service accounts, the directory, the
// authenticator (hash gate, credential cache, brute-force throttle), the metrics and the
// BridgeContext. `serve` (startBridge) and the operator commands (test-bind, search) all build
// it here, so a command answers as the running bridge would. They differ only in where the
// brute-force counters live: `serve` shares them (Redis, or a cluster's primary); a command
// keeps its own in memory, so nothing it tries counts against anyone on the real server.
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/types.js';
import { redactDatabaseUrl } from './config/database-url.js';
import { openStore } from './db/open.js';
import { StoreUnavailableError, type DirectoryStore } from './directory/store.js';
import { Directory } from './directory/directory.js';
import { BridgeContext, type ServiceAccountEntry } from './ldap/context.js';
import { Dit } from './ldap/dit.js';
import { Authenticator, chooseSampleHash } from './auth/authenticator.js';
import { HashGate } from './auth/hash-gate.js';
import { CredentialCache } from './auth/credential-cache.js';
import { Throttle, type CounterStore } from './auth/throttle.js';
import { Mfa, spentSteps, type SpentSteps } from './auth/mfa.js';
import { Metrics } from './metrics.js';
import { identifyHasher } from './django/hashers/index.js';
import { VERSION } from './version.js';
import { parseDatabaseUrl } from './config/database-url.js';
import { openWriter } from './db/write-store.js';
import { Writes } from './auth/writes.js';
import { readCommonPasswords } from './django/password-validation.js';

/** What the bridge refuses to start with (its message is for the operator, as is). */
export class StartupError extends Error {}

/** The tree and the service accounts, built from the config alone: before anything is opened,
 * so a bad service account fails at once rather than after a database wait. */
export interface Tree {
  dit: Dit;
  services: ServiceAccountEntry[];
}

export function buildTree(config: BridgeConfig): Tree {
  const dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  return { dit, services: serviceAccountEntries(config, dit) };
}

/** The service accounts as the server looks them up; throws StartupError for a password that
 * is not a Django hash (nobody could bind with it). */
export function serviceAccountEntries(config: BridgeConfig, dit: Dit): ServiceAccountEntry[] {
  return config.serviceAccounts.map((s) => {
    const kind = identifyHasher(s.password);
    if (kind === 'unusable' || kind === 'unknown') throw new StartupError(`serviceAccounts: the password of ${s.dn} is not a Django password hash (make one with: django-ldap-bridge hash-password)`);
    if (s.dn.length > dit.maxDnChars) throw new StartupError(`serviceAccounts: ${s.dn.slice(0, 64)}… is longer than the ${dit.maxDnChars} characters a DN of this tree may have`);
    return { dn: s.dn, key: dit.key(s.dn), password: s.password, passwordAdministrator: s.passwordAdministrator === true };
  });
}

/**
 * Opens the store and checks its schema. With `retry`, an unreachable database is retried with
 * back-off for db.startupRetrySeconds, each attempt logged there (`serve`: a database may start
 * after the bridge); without, one attempt (a command answers now). A wrong schema is final at
 * once. Throws StartupError.
 */
export async function openVerifiedStore(config: BridgeConfig, opts: { retry?: Logger; cwd?: string } = {}): Promise<DirectoryStore> {
  const deadline = opts.retry ? Date.now() + config.db.startupRetrySeconds * 1000 : 0;
  for (let attempt = 1, wait = 500; ; attempt++, wait = Math.min(wait * 2, 15000)) {
    let store: DirectoryStore | undefined;
    try {
      store = openStore(config, opts.cwd);
      await store.verifySchema();
      return store;
    } catch (e) {
      await store?.close().catch(() => {});
      const msg = (e as Error).message;
      const retryable = e instanceof StoreUnavailableError || /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|the database system is starting up|Connection terminated|timeout/i.test(msg);
      if (!opts.retry || !retryable || Date.now() + wait > deadline) throw new StartupError(`cannot use the database ${redactDatabaseUrl(config.database)}:\n${msg}`);
      opts.retry.warn({ attempt, retryInMs: wait, database: redactDatabaseUrl(config.database), err: msg }, 'database unavailable at start; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** How many users (the first, by id) the dummy password check's cost is chosen from. */
export const SAMPLE_USERS = 500;

/**
 * The stored hash the dummy check for an unknown user imitates, so that a failed bind costs
 * what a real one on this site costs: the most common (hasher, cost) among the first
 * SAMPLE_USERS users (chooseSampleHash). The most common rather than the first usable one: the
 * first accounts are often an old admin's with an older hasher or cost than everyone since.
 * 500 rows of one column is one quick query, made once per start or command.
 */
export async function siteSampleHash(store: DirectoryStore): Promise<string | undefined> {
  const sample = await store.findUsers({ op: 'all' }, { afterId: 0, limit: SAMPLE_USERS }, true, true);
  return chooseSampleHash(sample.map((u) => u.password));
}

/** The context LDAP operations run on. `counters`: where brute-force failures are counted
 * (see the top of this file); `spent`: where spent one-time code steps are kept (default: Redis
 * when security.redis is set, else memory). The caller closes the store and `context.auth`. */
export async function buildContext(config: BridgeConfig, tree: Tree, store: DirectoryStore, log: Logger, counters: CounterStore, spent?: SpentSteps): Promise<BridgeContext> {
  const directory = new Directory(store, { caseInsensitiveUsernames: config.caseInsensitiveUsernames, showInactiveUsers: config.showInactiveUsers });
  const sec = config.security;
  const throttle = new Throttle(sec.bruteForce, counters);
  const mfa = config.mfa.require.kind === 'off' ? undefined : new Mfa(config.mfa, directory, spent ?? spentSteps(sec.redis, sec.redisTimeoutSeconds * 1000, log), sec.credentialCacheEntries, log);
  const auth = new Authenticator(directory, new HashGate(sec.hashConcurrency, sec.hashQueue, sec.hashQueueReserved), new CredentialCache(sec.credentialCacheSeconds * 1000, sec.credentialCacheEntries), throttle, log, config.caseInsensitiveUsernames, mfa);
  await mfa?.checkPolicy();
  const metrics = new Metrics();
  store.onQuery = (seconds, ok) => metrics.query(seconds, ok);
  // One line when the database stops answering and one when it answers again, however many
  // operations meanwhile answer unavailable (52).
  store.onOutage = (cause) => (cause === undefined ? log.info('the database answers again') : log.error({ err: cause }, 'the database is unavailable; operations answer unavailable (52) until it answers again'));
  const sample = await siteSampleHash(store);
  if (sample) auth.sampleHash = sample;
  return new BridgeContext(config, tree.dit, directory, log, tree.services, VERSION, auth, metrics);
}

/**
 * The opt-in writes, when a writes.* setting is on (undefined otherwise: no write connection is
 * opened at all). Only `serve` calls this: the operator commands never write. Throws
 * StartupError naming the setting when the common-passwords list cannot be read.
 */
export function openWrites(config: BridgeConfig, ctx: BridgeContext, cwd = process.cwd()): Writes | undefined {
  const w = config.writes;
  if (!w.passwordModify && !w.lastLogin && !w.upgradeHashes) return undefined;
  let common: Set<string> | undefined;
  if (w.passwordRules.commonPasswords !== null) {
    try {
      common = readCommonPasswords(w.passwordRules.commonPasswords);
    } catch (e) {
      throw new StartupError(`writes.passwordRules.commonPasswords: cannot read ${w.passwordRules.commonPasswords}: ${(e as Error).message}`);
    }
  }
  const url = w.database ?? config.database;
  let writer;
  try {
    writer = openWriter(parseDatabaseUrl(url, cwd), config.django, config.db.statementTimeoutSeconds * 1000);
  } catch (e) {
    throw new StartupError(`writes.database: cannot open ${redactDatabaseUrl(url)}: ${(e as Error).message}`);
  }
  const rules = { minLength: w.passwordRules.minLength, maxSimilarity: w.passwordRules.maxSimilarity, common, numeric: w.passwordRules.numeric };
  return new Writes(w, writer, rules, ctx.auth, ctx.log);
}
