// Starts a bridge from a resolved config: open the store, check the schema it maps, build the
// tree, listen. Used by the CLI, the demo and the tests.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/types.js';
import { redactDatabaseUrl } from './config/database-url.js';
import { openStore } from './db/open.js';
import type { DirectoryStore } from './directory/store.js';
import { Directory } from './directory/directory.js';
import { BridgeContext } from './ldap/context.js';
import { Dit } from './ldap/dit.js';
import { LdapServer, parseListenUrl, serverLimits, type ListenAddress } from './ldap/server.js';
import { Authenticator, chooseSampleHash } from './auth/authenticator.js';
import { HashGate } from './auth/hash-gate.js';
import { CredentialCache } from './auth/credential-cache.js';
import { Throttle, counterStore, type CounterStore } from './auth/throttle.js';
import { StoreUnavailableError } from './directory/store.js';
import { Metrics } from './metrics.js';
import { identifyHasher, hashCost } from './django/hashers.js';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
})();

export interface RunningBridge {
  addresses: ListenAddress[];
  urls: string[];
  context: BridgeContext;
  store: DirectoryStore;
  server: LdapServer;
  metrics: Metrics;
  /** http://host:port of the metrics/health listener, when configured. */
  metricsUrl: string | undefined;
  reloadTls(): void;
  /** Applies a re-read config (SIGHUP): returns the settings that need a restart. */
  reload(next: BridgeConfig): string[];
  close(): Promise<void>;
}

export class StartupError extends Error {}

function serviceAccountEntries(config: BridgeConfig, dit: Dit) {
  return config.serviceAccounts.map((s) => {
    const kind = identifyHasher(s.password);
    if (kind === 'unusable' || kind === 'unknown') throw new StartupError(`serviceAccounts: the password of ${s.dn} is not a Django password hash (make one with: django-ldap-bridge hash-password)`);
    return { dn: s.dn, key: dit.key(s.dn), password: s.password };
  });
}

/** Settings a running bridge can take without a restart (SIGHUP); the rest need one. */
const LIVE = ['serviceAccounts', 'anonymous', 'limits', 'security', 'log', 'tls'] as const;

/** Opens the store and checks its schema. An unreachable database is retried with back-off
 * for db.startupRetrySeconds (logging each attempt); a wrong schema is final at once. */
async function openWithRetry(config: BridgeConfig, log: Logger, cwd?: string): Promise<DirectoryStore> {
  const deadline = Date.now() + config.db.startupRetrySeconds * 1000;
  for (let attempt = 1, wait = 500; ; attempt++, wait = Math.min(wait * 2, 15000)) {
    let store: DirectoryStore | undefined;
    try {
      store = openStore(config, cwd);
      await store.verifySchema();
      return store;
    } catch (e) {
      await store?.close().catch(() => {});
      const msg = (e as Error).message;
      const retryable = e instanceof StoreUnavailableError || /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|the database system is starting up|Connection terminated|timeout/i.test(msg);
      if (!retryable || Date.now() + wait > deadline) throw new StartupError(`cannot use the database ${redactDatabaseUrl(config.database)}:\n${msg}`);
      log.warn({ attempt, retryInMs: wait, database: redactDatabaseUrl(config.database), err: msg }, 'database unavailable at start; retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export interface StartOptions {
  cwd?: string;
  /** Brute-force counters kept elsewhere (a cluster worker's come from the primary). */
  counters?: CounterStore;
  /** Serve no metrics listener here even if configured (cluster workers: the primary does). */
  noMetricsListener?: boolean;
}

export async function startBridge(config: BridgeConfig, log: Logger, opts: StartOptions = {}): Promise<RunningBridge> {
  const dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  const services = serviceAccountEntries(config, dit);
  const store = await openWithRetry(config, log, opts.cwd);
  const directory = new Directory(store, { caseInsensitiveUsernames: config.caseInsensitiveUsernames, showInactiveUsers: config.showInactiveUsers });
  const sec = config.security;
  const throttle = new Throttle(sec.bruteForce, opts.counters ?? (await counterStore(sec.redis, log)));
  const auth = new Authenticator(directory, new HashGate(sec.hashConcurrency, sec.hashQueue), new CredentialCache(sec.credentialCacheSeconds * 1000, sec.credentialCacheEntries), throttle, log, config.caseInsensitiveUsernames);
  const metrics = new Metrics();
  store.onQuery = (seconds, ok) => metrics.query(seconds, ok);
  // One line when the database stops answering and one when it answers again, however many
  // operations meanwhile answer unavailable (52).
  store.onOutage = (cause) => (cause === undefined ? log.info('the database answers again') : log.error({ err: cause }, 'the database is unavailable; operations answer unavailable (52) until it answers again'));
  const ctx = new BridgeContext(config, dit, directory, log, services, VERSION, auth, metrics);
  // The dummy check for unknown users should cost what a real check on this site costs.
  const sample = await store.findUsers({ op: 'all' }, { afterId: 0, limit: 500 }, true, true);
  const typical = chooseSampleHash(sample.map((u) => u.password));
  if (typical) auth.sampleHash = typical;
  if (!store.hasGroups) log.warn('the user model has no groups mapping: serving users only (no ou=groups)');
  if (!store.hasPermissions) log.warn('no permissions mapping: ou=permissions is not served');

  let server: LdapServer;
  let addresses: ListenAddress[];
  try {
    server = new LdapServer(ctx, serverLimits(config.limits));
    addresses = await server.listen(config.listen.map((u) => ({ ...parseListenUrl(u), proxy: config.proxyProtocol.includes(u) })));
  } catch (e) {
    await store.close();
    await throttle.close();
    throw new StartupError(`listen: cannot listen on ${config.listen.join(', ')}: ${(e as Error).message}`);
  }
  metrics.attach({
    connections: () => server.connectionCount,
    hashQueue: () => auth.gate.depth,
    pool: () => store.poolStats?.(),
    ping: () => store.ping(),
  });
  let metricsUrl: string | undefined;
  if (config.metrics.listen && !opts.noMetricsListener) {
    try {
      const m = await metrics.listen(config.metrics.listen);
      metricsUrl = `http://${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}`;
    } catch (e) {
      await server.close();
      await store.close();
      await throttle.close();
      throw new StartupError(`metrics.listen: cannot listen on ${config.metrics.listen}: ${(e as Error).message}`);
    }
  }
  const urls = addresses.map((a) => `${a.secure ? 'ldaps' : 'ldap'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
  log.info({ listen: urls, metrics: metricsUrl, database: redactDatabaseUrl(config.database), baseDn: dit.baseDn, store: store.kind, version: VERSION }, 'django-ldap-bridge started');
  return {
    addresses,
    urls,
    context: ctx,
    store,
    server,
    metrics,
    metricsUrl,
    reloadTls: () => server.reloadTls(),
    reload(next: BridgeConfig) {
      // Validate everything first, so a bad file changes nothing.
      const nextServices = serviceAccountEntries(next, dit);
      const restart = (Object.keys(next) as (keyof BridgeConfig)[]).filter((k) => !(LIVE as readonly string[]).includes(k) && JSON.stringify(next[k]) !== JSON.stringify(config[k]));
      if (JSON.stringify(next.tls) !== JSON.stringify(config.tls)) restart.push('tls');
      ctx.serviceAccounts.splice(0, ctx.serviceAccounts.length, ...nextServices);
      config.anonymous.search = next.anonymous.search;
      Object.assign(config.limits, next.limits);
      Object.assign(config.security.bruteForce, next.security.bruteForce);
      config.security.requireTls = next.security.requireTls;
      log.level = next.log.level;
      server.reloadTls();
      if (restart.length) log.warn({ settings: restart }, 'configuration reloaded; these changes need a restart to apply');
      else log.info('configuration reloaded');
      return restart;
    },
    async close() {
      await server.close();
      await metrics.close();
      await store.close();
      await throttle.close();
      log.info('django-ldap-bridge stopped');
    },
  };
}
