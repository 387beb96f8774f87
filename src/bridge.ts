// Starts a bridge from a resolved config: build its context (src/context-builder.ts), listen,
// serve metrics. Used by the CLI, the demo and the tests.
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/types.js';
import { redactDatabaseUrl } from './config/database-url.js';
import type { DirectoryStore } from './directory/store.js';
import type { BridgeContext, ServiceAccountEntry } from './ldap/context.js';
import { ResultCode } from './ldap/protocol.js';
import { LdapServer, TlsFilesError, parseListenUrl, serverLimits, type ListenAddress } from './ldap/server.js';
import { counterStore, type CounterStore } from './auth/throttle.js';
import type { Metrics } from './metrics.js';
import { buildContext, buildTree, openVerifiedStore, openWrites, serviceAccountEntries, StartupError } from './context-builder.js';
import { VERSION } from './version.js';

export { StartupError, VERSION };

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

/** Settings a running bridge can take without a restart (SIGHUP); the rest need one. */
const LIVE = ['serviceAccounts', 'anonymous', 'limits', 'security', 'log', 'tls'] as const;

export interface StartOptions {
  cwd?: string;
  /** Brute-force counters kept elsewhere (a cluster worker's come from the primary). */
  counters?: CounterStore;
  /** Serve no metrics listener here even if configured (cluster workers: the primary does). */
  noMetricsListener?: boolean;
}

export async function startBridge(config: BridgeConfig, log: Logger, opts: StartOptions = {}): Promise<RunningBridge> {
  const tree = buildTree(config);
  const store = await openVerifiedStore(config, { retry: log, cwd: opts.cwd });
  const ctx = await buildContext(config, tree, store, log, opts.counters ?? (await counterStore(config.security.redis, log, config.security.redisTimeoutSeconds * 1000)));
  const { dit, auth, metrics } = ctx;
  if (!store.hasGroups) log.warn('the user model has no groups mapping: serving users only (no ou=groups)');
  if (!store.hasPermissions) log.warn('no permissions mapping: ou=permissions is not served');
  try {
    ctx.writes = openWrites(config, ctx, opts.cwd);
  } catch (e) {
    await store.close();
    await auth.close();
    throw e;
  }
  const writes = ctx.writes;
  if (writes) {
    const on = (['passwordModify', 'lastLogin', 'upgradeHashes'] as const).filter((k) => config.writes[k]);
    log.warn({ writes: on, database: redactDatabaseUrl(config.writes.database ?? config.database), hasher: config.writes.hasher, iterations: config.writes.iterations }, 'writes to the Django database are on');
  }

  let server: LdapServer;
  let addresses: ListenAddress[];
  try {
    server = new LdapServer(ctx, serverLimits(config.limits));
    addresses = await server.listen(config.listen.map((u) => ({ ...parseListenUrl(u), proxy: config.proxyProtocol.includes(u) })));
  } catch (e) {
    await writes?.close();
    await store.close();
    await auth.close();
    if (e instanceof TlsFilesError) throw new StartupError(e.message);
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
      await writes?.close();
      await store.close();
      await auth.close();
      throw new StartupError(`metrics.listen: cannot listen on ${config.metrics.listen}: ${(e as Error).message}`);
    }
  }
  const urls = addresses.map((a) => `${a.secure ? 'ldaps' : 'ldap'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
  log.info({ listen: urls, metrics: metricsUrl, database: redactDatabaseUrl(config.database), baseDn: dit.baseDn, store: store.kind, version: VERSION }, 'django-ldap-bridge started');
  log.flush(); // now, not within the next half second: supervisors and scripts wait for it
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
      // Connections bound as a service account that is gone, or whose password changed, are
      // closed rather than dropped to anonymous: Apache's mod_ldap reconnects and binds again
      // (with the new password) when its connection closes, but would go on searching, refused,
      // on a connection silently made anonymous; and closing ends the trust (no per-address
      // brute-force counting) the old account gave the connection too.
      const current = (svc: ServiceAccountEntry) => nextServices.some((n) => n.key === svc.key && n.password === svc.password);
      const closed = server.disconnectSessions((s) => s.service !== undefined && !current(s.service), ResultCode.strongerAuthRequired, 'the service account this connection bound as was removed or changed');
      if (closed) log.warn({ connections: closed }, 'closed connections bound as a service account that was removed or changed');
      config.anonymous.search = next.anonymous.search;
      Object.assign(config.limits, next.limits);
      Object.assign(config.security.bruteForce, next.security.bruteForce);
      config.security.requireTls = next.security.requireTls;
      log.level = next.log.level;
      server.reloadTls();
      if (restart.length) log.warn({ settings: restart }, 'configuration reloaded; these changes need a restart to apply');
      else log.info('configuration reloaded');
      log.flush();
      return restart;
    },
    async close() {
      await server.close();
      await metrics.close();
      await writes?.close();
      await store.close();
      await auth.close();
      log.info('django-ldap-bridge stopped');
    },
  };
}
