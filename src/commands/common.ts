// What the operator commands (doctor, test-bind, search, init) share: the config flags `serve`
// takes, loading the configuration, opening the store, and the same wiring startBridge() does
// (directory, authenticator, LDAP context) without a listener.
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { createLogger } from '../log.js';
import { loadConfig, ConfigError, type ConfigFlags } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { redactDatabaseUrl } from '../config/database-url.js';
import { VERSION } from '../bridge.js';
import { openStore } from '../db/open.js';
import type { DirectoryStore } from '../directory/store.js';
import { Directory } from '../directory/directory.js';
import { Dit } from '../ldap/dit.js';
import { BridgeContext } from '../ldap/context.js';
import { Authenticator } from '../auth/authenticator.js';
import { HashGate } from '../auth/hash-gate.js';
import { CredentialCache } from '../auth/credential-cache.js';
import { MemoryCounters, Throttle } from '../auth/throttle.js';
import { Metrics } from '../metrics.js';
import { hashCost } from '../django/hashers/index.js';

/** A command's failure: the message for stderr and the exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** The configuration flags every command takes, as `serve` spells them. */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('-d, --database <url>', 'database URL: sqlite:///path/db.sqlite3, postgres://user@host/db or mysql://user@host/db (default: $DATABASE_URL)')
    .option('-b, --base-dn <dn>', 'base DN of the tree, e.g. dc=example,dc=com')
    .option('-l, --listen <url>', 'ldap://host:port the bridge listens on (repeatable)', collect)
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (logs go to stderr)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'pretty', 'auto']));
}

/** Wraps a command body: its number becomes the exit code; a CommandError is printed. The
 * process ends by itself once stores are closed, so output piped to another program is never cut. */
export function commandAction<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (e) {
      if (e instanceof CommandError) {
        process.stderr.write(`django-ldap-bridge: ${e.message}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      throw e;
    }
  };
}

/** loadConfig with the command's flags and the process environment; problems exit 2 as in `serve`. */
export function loadCommandConfig(flags: ConfigFlags, env: Record<string, string | undefined> = process.env): BridgeConfig {
  try {
    return loadConfig({ flags, env, cwd: process.cwd() });
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandError(`the configuration has problems:\n${e.problems.map((p) => `  - ${p}`).join('\n')}`, 2);
    throw e;
  }
}

/** Logs of the commands go to stderr: stdout carries the report, the LDIF or the JSON. */
export function commandLogger(config: BridgeConfig): Logger {
  return createLogger(config.log, process.stderr);
}

/** Opens the store and checks the mapped schema, as `serve` does at start (without retrying). */
export async function openCheckedStore(config: BridgeConfig): Promise<DirectoryStore> {
  let store: DirectoryStore | undefined;
  try {
    store = openStore(config);
    await store.verifySchema();
    return store;
  } catch (e) {
    await store?.close().catch(() => {});
    throw new CommandError(`cannot use the database ${redactDatabaseUrl(config.database)}:\n${(e as Error).message}`, 1);
  }
}

/** The LDAP context a running bridge would have for this config and store, with no listener:
 * no brute-force counting (a diagnostic must not lock anybody out) and no credential cache. */
export async function commandContext(config: BridgeConfig, store: DirectoryStore, log: Logger): Promise<BridgeContext> {
  const dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  const services = config.serviceAccounts.map((s) => ({ dn: s.dn, key: dit.key(s.dn), password: s.password }));
  const directory = new Directory(store, { caseInsensitiveUsernames: config.caseInsensitiveUsernames, showInactiveUsers: config.showInactiveUsers });
  const throttle = new Throttle({ ...config.security.bruteForce, enabled: false }, new MemoryCounters());
  const auth = new Authenticator(directory, new HashGate(1, 16), new CredentialCache(0, 0), throttle, log, config.caseInsensitiveUsernames);
  // As startBridge: the dummy check for an unknown user costs what a real one on this site costs.
  const sample = await store.findUsers({ op: 'all' }, { afterId: 0, limit: 50 }, true, true);
  const real = sample.find((u) => hashCost(u.password));
  if (real) auth.sampleHash = real.password;
  return new BridgeContext(config, dit, directory, log, services, VERSION, auth, new Metrics());
}

/** "iterations 260000", "rounds 12", "memoryCost 102400, timeCost 2, ..." (no hash material). */
export function describeCost(cost: Record<string, string | number> | undefined): string {
  if (!cost) return '';
  return Object.entries(cost)
    .filter(([k]) => k !== 'hasher')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** Pads a string to a width (for the human-readable tables). */
export function pad(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/** At most `max` names, then "and N more". */
export function someNames(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
