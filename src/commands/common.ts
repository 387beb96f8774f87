// What the operator commands (doctor, test-bind, search, init) share: the config flags `serve`
// takes, loading the configuration, and the store and LDAP context `serve` would build
// (src/context-builder.ts), without a listener.
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { createLogger } from '../log.js';
import { loadConfig, ConfigError, type ConfigFlags } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import type { DirectoryStore } from '../directory/store.js';
import type { BridgeContext } from '../ldap/context.js';
import { MemoryCounters } from '../auth/throttle.js';
import { MemorySpentSteps } from '../auth/mfa.js';
import { buildContext, buildTree, openVerifiedStore, StartupError } from '../context-builder.js';

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

/** What `serve` would refuse to start with is a command's failure too (exit 1). */
async function asCommand<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof StartupError) throw new CommandError(e.message, 1);
    throw e;
  }
}

/** Opens the store and checks the mapped schema, as `serve` does at start (without retrying). */
export function openCheckedStore(config: BridgeConfig): Promise<DirectoryStore> {
  return asCommand(() => openVerifiedStore(config));
}

/** The LDAP context a running bridge would have for this config and store, with no listener.
 * Its brute-force counters and spent one-time codes are this process's own: a diagnostic never
 * locks anybody out, and a code it checks stays usable on the running bridges. */
export function commandContext(config: BridgeConfig, store: DirectoryStore, log: Logger): Promise<BridgeContext> {
  return asCommand(async () => buildContext(config, buildTree(config), store, log, new MemoryCounters(), new MemorySpentSteps()));
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
