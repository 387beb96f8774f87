// Starts a bridge from a resolved config: open the store, check the schema it maps, build the
// tree, listen. Used by the CLI, the demo and the tests.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/types.js';
import { redactDatabaseUrl } from './config/database-url.js';
import { openStore } from './db/open.js';
import type { DirectoryStore } from './db/store.js';
import { Directory } from './directory/directory.js';
import { BridgeContext } from './ldap/context.js';
import { Dit } from './ldap/dit.js';
import { LdapServer, parseListenUrl, type ListenAddress } from './ldap/server.js';
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
  close(): Promise<void>;
}

export class StartupError extends Error {}

export async function startBridge(config: BridgeConfig, log: Logger, opts: { cwd?: string } = {}): Promise<RunningBridge> {
  const dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  const services = config.serviceAccounts.map((s) => {
    const kind = identifyHasher(s.password);
    if (kind === 'unusable' || kind === 'unknown') throw new StartupError(`serviceAccounts: the password of ${s.dn} is not a Django password hash (make one with: django-ldap-bridge hash-password)`);
    return { dn: s.dn, key: dit.key(s.dn), password: s.password };
  });
  let store: DirectoryStore;
  try {
    store = openStore(config, opts.cwd);
    await store.verifySchema();
  } catch (e) {
    throw new StartupError(`cannot use the database ${redactDatabaseUrl(config.database)}:\n${(e as Error).message}`);
  }
  const directory = new Directory(store, { caseInsensitiveUsernames: config.caseInsensitiveUsernames, showInactiveUsers: config.showInactiveUsers });
  const ctx = new BridgeContext(config, dit, directory, log, services, VERSION);
  // The dummy check for unknown users should cost what a real check on this site costs.
  const sample = await store.findUsers({ op: 'all' }, { afterId: 0, limit: 50 }, true);
  const real = sample.find((u) => hashCost(u.password));
  if (real) ctx.sampleHash = real.password;
  if (!store.hasGroups) log.warn('the user model has no groups mapping: serving users only (no ou=groups)');
  if (!store.hasPermissions) log.warn('no permissions mapping: ou=permissions is not served');

  const server = new LdapServer(ctx);
  let addresses: ListenAddress[];
  try {
    addresses = await server.listen(config.listen.map(parseListenUrl));
  } catch (e) {
    await store.close();
    throw new StartupError(`listen: cannot listen on ${config.listen.join(', ')}: ${(e as Error).message}`);
  }
  const urls = addresses.map((a) => `ldap://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
  log.info({ listen: urls, database: redactDatabaseUrl(config.database), baseDn: dit.baseDn, store: store.kind, version: VERSION }, 'django-ldap-bridge started');
  return {
    addresses,
    urls,
    context: ctx,
    store,
    async close() {
      await server.close();
      await store.close();
      log.info('django-ldap-bridge stopped');
    },
  };
}
