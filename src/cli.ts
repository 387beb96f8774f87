// The command line: `serve` runs the bridge; `hash-password` makes a service account's hash.
import { Command, Option } from 'commander';
import { createLogger } from './log.js';
import { loadConfig, ConfigError, type ConfigFlags } from './config/load.js';
import { startBridge, StartupError, VERSION } from './bridge.js';
import { makePassword } from './django/hashers.js';
import { bridgeSchemaText } from './ldap/schema.js';

const program = new Command();
program.name('django-ldap-bridge').description("An LDAP server for a Django site's users, groups and permissions, read live from its database").version(VERSION);

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

program
  .command('serve')
  .description('serve the Django database over LDAP')
  .option('-c, --config <file>', 'config file (YAML or JSON)')
  .option('-d, --database <url>', 'database URL: sqlite:///path/db.sqlite3 or postgres://user@host/db (default: $DATABASE_URL)')
  .option('-b, --base-dn <dn>', 'base DN of the tree, e.g. dc=example,dc=com')
  .option('-l, --listen <url>', 'ldap://host:port to listen on (repeatable)', collect)
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
  .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'pretty', 'auto']))
  .addHelpText(
    'after',
    `
Examples:
  django-ldap-bridge serve --database postgres://app@127.0.0.1/mysite --base-dn dc=example,dc=com
  django-ldap-bridge serve --database sqlite:///srv/mysite/db.sqlite3 --config bridge.yaml
  DATABASE_URL=sqlite://./db.sqlite3 DJANGO_LDAP_BASE_DN=dc=example,dc=com django-ldap-bridge serve`,
  )
  .action(async (opts: ConfigFlags) => {
    let config;
    try {
      config = loadConfig({ flags: opts, env: process.env, cwd: process.cwd() });
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`django-ldap-bridge: the configuration has problems:\n${e.problems.map((p) => `  - ${p}`).join('\n')}\n`);
        process.exit(2);
      }
      throw e;
    }
    const log = createLogger(config.log);
    // Handlers go in before the start line is logged, so a signal right after start is clean.
    let bridge: Awaited<ReturnType<typeof startBridge>> | undefined;
    const stop = async (signal: string) => {
      log.info({ signal }, 'stopping');
      await bridge?.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => {
      try {
        bridge?.reloadTls();
      } catch (e) {
        log.error({ err: (e as Error).message }, 'TLS reload failed; keeping the previous certificate');
      }
    });
    try {
      bridge = await startBridge(config, log);
    } catch (e) {
      if (e instanceof StartupError) {
        process.stderr.write(`django-ldap-bridge: ${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
  });

program
  .command('hash-password')
  .description("print a Django-format pbkdf2_sha256 hash of a password read from stdin (for serviceAccounts[].password)")
  .option('--iterations <n>', 'PBKDF2 iterations', (v) => parseInt(v, 10), 1_000_000)
  .addHelpText('after', `
The password is read from standard input (one line), never from an argument, so it stays out of
shell history and the process list.

Example:
  printf '%s' 'apache-secret' | django-ldap-bridge hash-password`)
  .action(async (opts: { iterations: number }) => {
    const chunks: Buffer[] = [];
    if (process.stdin.isTTY) process.stderr.write('Password: ');
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (!password) {
      process.stderr.write('django-ldap-bridge: empty password on stdin\n');
      process.exit(2);
    }
    process.stdout.write((await makePassword(password, { iterations: opts.iterations })) + '\n');
  });

program
  .command('schema')
  .description("print the LDAP schema (RFC 4512 definitions) of the bridge's own attributes and object classes")
  .action(() => {
    process.stdout.write(bridgeSchemaText());
  });

program.parseAsync(process.argv).catch((e) => {
  process.stderr.write(`django-ldap-bridge: ${(e as Error).message}\n`);
  process.exit(1);
});
