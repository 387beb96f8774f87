// The command line: `serve` runs the bridge; `hash-password` makes a service account's hash.
import { Command, Option } from 'commander';
import { createLogger, endLog } from './log.js';
import { loadConfig, ConfigError, type ConfigFlags } from './config/load.js';
import cluster from 'node:cluster';
import { startBridge, StartupError, VERSION } from './bridge.js';
import { PrimaryCounters, runPrimary, serveWorker } from './cluster.js';
import { makePassword } from './django/hashers/index.js';
import { bridgeSchemaText } from './ldap/schema.js';
import { apacheLocation, apacheOptionsFromConfig, ApacheConfigError, DEFAULT_PASSWORD_ENV } from './apache/config.js';
import { withConfigOptions, commandAction, loadCommandConfig, CommandError } from './commands/common.js';
import { runDoctor } from './commands/doctor.js';
import { runTestBind } from './commands/test-bind.js';
import { runSearch } from './commands/search.js';
import { runInit } from './commands/init.js';

const program = new Command();
program.name('django-ldap-bridge').description("An LDAP server for a Django site's users, groups and permissions, read live from its database").version(VERSION);

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

program
  .command('serve')
  .description('serve the Django database over LDAP')
  .option('-c, --config <file>', 'config file (YAML or JSON)')
  .option('-d, --database <url>', 'database URL: sqlite:///path/db.sqlite3, postgres://user@host/db or mysql://user@host/db (default: $DATABASE_URL)')
  .option('-b, --base-dn <dn>', 'base DN of the tree, e.g. dc=example,dc=com')
  .option('-l, --listen <url>', 'ldap://host:port to listen on (repeatable)', collect)
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
  .addOption(new Option('--log-format <format>', 'log format').choices(['json', 'pretty', 'auto']))
  .option('--metrics <host:port>', 'serve Prometheus /metrics, /healthz and /readyz over HTTP on host:port')
  .option('--workers <n>', 'worker processes sharing the listeners (0: one per CPU; default 1)')
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
      await endLog(log);
      process.exit(0);
    };
    // A crash Node can catch is logged, every buffered line written, and the process ends
    // (its state is unknown): a supervisor (systemd, the cluster primary) starts another.
    let crashed = false;
    const crash = (what: string) => (err: unknown) => {
      if (crashed) return;
      crashed = true;
      log.fatal({ err }, `${what}: stopping`);
      void endLog(log, 5000).finally(() => process.exit(1));
    };
    process.on('uncaughtException', crash('uncaught exception'));
    process.on('unhandledRejection', crash('unhandled promise rejection'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    // SIGHUP: re-read the configuration and TLS material; connections stay open. A broken file
    // or certificate is reported and changes nothing.
    process.on('SIGHUP', () => {
      try {
        bridge?.reload(loadConfig({ flags: opts, env: process.env, cwd: process.cwd() }));
      } catch (e) {
        const why = e instanceof ConfigError ? e.problems.join('; ') : (e as Error).message;
        log.error({ err: why }, 'reload failed; keeping the running configuration');
      }
    });
    try {
      if (cluster.isPrimary && config.workers > 1) {
        process.removeAllListeners('SIGHUP');
        process.removeAllListeners('SIGTERM');
        process.removeAllListeners('SIGINT');
        await runPrimary(config, log, () => endLog(log));
        return;
      }
      if (cluster.isWorker) {
        const wlog = log.child({ worker: cluster.worker!.id });
        bridge = await startBridge(config, wlog, { counters: config.security.redis ? undefined : new PrimaryCounters(), noMetricsListener: true });
        serveWorker(bridge);
      } else {
        bridge = await startBridge(config, log);
      }
    } catch (e) {
      if (e instanceof StartupError) {
        await endLog(log);
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

withConfigOptions(program.command('apache-config'))
  .description('print an Apache httpd 2.4 <Location> block (mod_authnz_ldap) for this bridge, from its configuration')
  .option('--location <path>', 'URL path to protect', '/')
  .requiredOption('--require <what...>', 'valid-user | user <name...> | group <name...> | permission <app_label.codename...> | staff | superuser')
  .addOption(new Option('--via <how>', 'permission/staff/superuser: membership of the bridge group, or compare an attribute of the user').choices(['group', 'attribute']))
  .addOption(new Option('--group-attribute <attr>', 'group: compare member (DNs) or memberUid (user names)').choices(['member', 'memberUid']))
  .option('--name <realm>', 'AuthName, the realm shown at the password prompt', 'Restricted')
  .option('--bind-as-user', 'no service account: Apache binds as the user (AuthLDAPInitialBindAsUser)')
  .option('--bind-dn <dn>', 'which serviceAccounts entry Apache binds as (default: the first)')
  .option('--bind-password-env <name>', `environment variable of httpd holding the service password (default: ${DEFAULT_PASSWORD_ENV})`)
  .option('--bind-password-exec <program>', 'program printing the service password (AuthLDAPBindPassword exec:)')
  .option('--ldap-url <url>', 'ldap://host:port Apache connects to (default: the first --listen address)')
  .option('--attributes <list>', 'more user attributes for the backend, as AUTHENTICATE_<ATTR> (comma-separated)', collect)
  .addHelpText('after', `
Reads the configuration as serve does (nothing is opened: the database is not contacted). Apache
cannot check a password hash, so the service account's plaintext password is not in the output:
httpd takes it from an environment variable (--bind-password-env, default ${DEFAULT_PASSWORD_ENV};
on Debian set it in /etc/apache2/envvars) or from a program (--bind-password-exec). Exit code 2
when the configuration or the request cannot be used. See docs/apache.md.

Examples:
  django-ldap-bridge apache-config --config bridge.yaml --location /secret --require group secret-agents
  django-ldap-bridge apache-config --config bridge.yaml --location /svn --require permission svn.commit_repo
  django-ldap-bridge apache-config --config bridge.yaml --location /admin-files --require staff --via attribute
  django-ldap-bridge apache-config --config bridge.yaml --location /private --require valid-user --bind-as-user`)
  .action(commandAction(async (opts: ConfigFlags & { location: string; require: string[]; via?: 'group' | 'attribute'; groupAttribute?: 'member' | 'memberUid'; name: string; bindAsUser?: boolean; bindDn?: string; bindPasswordEnv?: string; bindPasswordExec?: string; ldapUrl?: string; attributes?: string[] }) => {
    const config = loadCommandConfig(opts);
    const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
    try {
      process.stdout.write(apacheLocation(apacheOptionsFromConfig(config, {
        location: opts.location,
        require: opts.require,
        via: opts.via,
        groupAttribute: opts.groupAttribute,
        authName: opts.name,
        bindAsUser: opts.bindAsUser,
        bindDn: opts.bindDn,
        bindPasswordEnv: opts.bindPasswordEnv,
        bindPasswordExec: opts.bindPasswordExec,
        ldapUrl: opts.ldapUrl,
        attributes: opts.attributes,
        generatedBy: `django-ldap-bridge apache-config --location ${shellWord(opts.location)} --require ${opts.require.map(shellWord).join(' ')}`,
      })));
      return 0;
    } catch (e) {
      if (e instanceof ApacheConfigError) throw new CommandError(`apache-config: ${e.message}`, 2);
      throw e;
    }
  }));

withConfigOptions(program.command('doctor'))
  .description('check a configuration against its database: tables, columns, counts, password hashers, who can never bind, case twins, indexes')
  .option('--json', 'print the report as JSON')
  .addHelpText('after', `
Connects with the configuration (the same flags, file and environment as serve) and reports table
by table what the bridge would find. Every stored password is identified (never printed) to count
the hashers in use. Exit code 1 on any error (unreachable database, missing table or column, a bad
service account); warnings (weak hashers, case twins, missing indexes) are marked WARNING and exit 0.

Examples:
  django-ldap-bridge doctor --config bridge.yaml
  django-ldap-bridge doctor --database sqlite:///srv/mysite/db.sqlite3 --base-dn dc=example,dc=com
  django-ldap-bridge doctor --config bridge.yaml --json | jq .hashers`)
  .action(commandAction((opts) => runDoctor(opts)));

withConfigOptions(program.command('test-bind').argument('<username>', "the Django username (USERNAME_FIELD), the user's DN, or a service account's DN"))
  .description("check a user's password as the bridge would answer a bind, and show the user's DN, groups and permissions")
  .option('--json', 'print the result as JSON')
  .addHelpText('after', `
The password is read from a prompt without echo (on a terminal) or from the first line of
standard input, never from an argument. Exit code 0 when the bind would succeed, 1 otherwise.
Brute-force counting is off: a test never locks anybody out. The password and the stored hash
are never printed.

Examples:
  django-ldap-bridge test-bind --config bridge.yaml alice
  printf '%s\\n' "$PASSWORD" | django-ldap-bridge test-bind --config bridge.yaml alice
  django-ldap-bridge test-bind --config bridge.yaml 'uid=alice,ou=users,dc=example,dc=com' --json
  django-ldap-bridge test-bind --config bridge.yaml 'cn=apache,ou=services,dc=example,dc=com'   # a service account`)
  .action(commandAction((username: string, opts) => runTestBind(username, opts)));

withConfigOptions(program.command('search').argument('<filter>', 'RFC 4515 filter, e.g. (uid=alice)').argument('[attributes...]', 'attributes to return (default: all user attributes; + for operational ones)'))
  .description('print as LDIF the entries the bridge would return for a search, without starting a server')
  .option('--base <dn>', 'search base (default: baseDn)')
  .addOption(new Option('--scope <scope>', 'search scope').choices(['base', 'one', 'sub']).default('sub'))
  .option('-z, --size-limit <n>', 'at most this many entries (0: the server limit)', (v) => parseInt(v, 10))
  .addHelpText('after', `
Runs the server's own search code with a service account's rights, so the output is what Apache
would receive: the same entries, attributes and order (as ldapsearch -LLL prints them). Values
that are not plain ASCII are base64-encoded (attr:: ...), as RFC 2849 requires. The exit code is
the LDAP result code (0 success, 4 sizeLimitExceeded, 32 noSuchObject, ...).

Examples:
  django-ldap-bridge search --config bridge.yaml '(uid=alice)' uid cn mail memberOf
  django-ldap-bridge search --config bridge.yaml --base ou=groups,dc=example,dc=com '(member=uid=alice,ou=users,dc=example,dc=com)' cn
  django-ldap-bridge search --config bridge.yaml --base 'cn=svn.commit_repo,ou=permissions,dc=example,dc=com' --scope base '(objectClass=*)' memberUid`)
  .action(commandAction((filter: string, attributes: string[], opts) => runSearch(filter, attributes, opts)));

withConfigOptions(program.command('init'))
  .description('inspect a Django database and write a commented config file for it')
  .option('-o, --out <file>', 'the file to write (.yaml), or - for stdout', 'bridge.yaml')
  .option('-f, --force', 'overwrite the file if it exists')
  .option('--user-table <table>', "the user model's table (Model._meta.db_table of AUTH_USER_MODEL), when several qualify")
  .option('--username-field <column>', "the column of the model's USERNAME_FIELD (default: username, else email)")
  .addHelpText('after', `
Finds the user model's table (auth_user, or a table with password, is_active and last_login;
when several qualify, the one django_migrations shows to be a custom AUTH_USER_MODEL, else choose
with --user-table), guesses USERNAME_FIELD, maps the optional columns that exist (null for the
others) and the many-to-many tables. The file is checked (it loads and the bridge's schema check
passes) before it is written; an existing file is kept unless --force. A database password
stays out of the file: for postgres:// give it in PGPASSWORD or ~/.pgpass; a mysql:// URL with a
password is not written at all (set DATABASE_URL).

Examples:
  django-ldap-bridge init --database sqlite:///srv/mysite/db.sqlite3 --base-dn dc=example,dc=com
  django-ldap-bridge init --database postgres://app@127.0.0.1/mysite --base-dn dc=example,dc=com --out /etc/django-ldap-bridge.yaml
  django-ldap-bridge init --database sqlite://./db.sqlite3 --user-table accounts_user --out -`)
  .action(commandAction((opts) => runInit(opts)));

program.parseAsync(process.argv).catch((e) => {
  process.stderr.write(`django-ldap-bridge: ${(e as Error).message}\n`);
  process.exit(1);
});
