// Parsing of the `database` setting: a sqlite://, postgres:// or mysql:// (mariadb://) URL.
//
// The PostgreSQL form follows libpq's connection URIs
// (postgres[ql]://[user[:password]@][host][:port][/dbname][?param=value&...]) for the subset the
// bridge can honour. Every message names the `database` setting and never repeats any part of
// the URL except its scheme, so a password (or a piece of one, when a stray "/" or "@" in it has
// moved the URL's delimiters) can never reach a log.
import { isAbsolute, resolve } from 'node:path';

/**
 * A configuration problem. `problems` lists every problem found, one line each, with the setting's
 * path first (e.g. `users.table: must be a string`); the message is those lines joined by newlines.
 * (Defined here rather than in load.ts so the two modules do not import each other; load.ts
 * re-exports it.)
 */
export class ConfigError extends Error {
  constructor(public problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      /** TCP host name or IP address (IPv6 without brackets); absent for a Unix socket. */
      host?: string;
      port?: number;
      user?: string;
      password?: string;
      database: string;
      ssl?: SslMode;
      /** Directory holding the server's Unix socket (`.s.PGSQL.<port>`), e.g. /var/run/postgresql. */
      socketDir?: string;
    }
  | {
      /** MySQL or MariaDB (mysql:// and mariadb:// alike). */
      kind: 'mysql';
      /** TCP host name or IP address (IPv6 without brackets); absent for a Unix socket. */
      host?: string;
      port?: number;
      user?: string;
      password?: string;
      database: string;
      ssl?: MysqlSslMode;
      /** Path of the server's Unix socket, e.g. /run/mysqld/mysqld.sock. */
      socket?: string;
    };

/** The MySQL client's --ssl-mode, less PREFERRED (the bridge either uses TLS or does not). */
export type MysqlSslMode = 'disabled' | 'required' | 'verify_ca' | 'verify_identity';
const MYSQL_SSL_MODES: readonly MysqlSslMode[] = ['disabled', 'required', 'verify_ca', 'verify_identity'];
const MYSQL_PARAMS = ['ssl-mode', 'socket'] as const;

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const PG_PARAMS = ['sslmode', 'host', 'port', 'user', 'password', 'dbname'] as const;
const ENCODE_HINT = 'percent-encode any "/", "?", "#", "@" or ":" in the user name or password, e.g. "@" as %40';

function fail(problem: string): never {
  throw new ConfigError([`database: ${problem}`]);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(`invalid percent-encoding in the ${what}`);
  }
}

function parsePort(text: string, where: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    // The text is not repeated: after a mis-encoded password it may be part of that password.
    fail(`invalid port ${where} (expected a number from 1 to 65535; ${ENCODE_HINT})`);
  }
  return Number(text);
}

function setHost(target: { host?: string; socketDir?: string }, host: string): void {
  if (host.startsWith('/')) {
    target.socketDir = host;
    delete target.host;
  } else {
    if (/[\s@/?#,[\]]/.test(host)) fail(`invalid host name (${ENCODE_HINT})`);
    target.host = host;
    delete target.socketDir;
  }
}

function parseSqlite(rest: string, cwd: string): DatabaseTarget {
  if (!rest.startsWith('//')) fail('expected sqlite:///absolute/path or sqlite://./relative/path');
  const raw = rest.slice(2);
  if (raw === '') fail('the sqlite:// URL names no file (expected sqlite:///absolute/path or sqlite://./relative/path)');
  if (/[?#]/.test(raw)) fail('sqlite:// URLs take no parameters (write a "?" or "#" in the file name as %3F or %23)');
  const path = decode(raw, 'file path');
  if (path === ':memory:' || path === '/:memory:') fail('an in-memory SQLite database holds no Django data; name the site\'s database file');
  return { kind: 'sqlite', path: isAbsolute(path) ? resolve(path) : resolve(cwd, path) };
}

/**
 * Delimits `[userinfo@]hostport[/path][?query]` (the text after "//"). The user info ends at the
 * last "@" before the first "/", which tolerates an unencoded "@" in a password (and a "?" in it
 * when a path follows); without a path, a "?" starts the parameters.
 */
function splitPostgres(s: string): { at: number; queryStart: number; pathStart: number } {
  const firstSlash = s.indexOf('/');
  const authorityLimit = firstSlash >= 0 ? firstSlash : s.length;
  let at = authorityLimit > 0 ? s.lastIndexOf('@', authorityLimit - 1) : -1;
  const firstQuery = s.indexOf('?');
  if (firstSlash < 0 && firstQuery >= 0 && firstQuery < at) at = firstQuery > 0 ? s.lastIndexOf('@', firstQuery - 1) : -1;
  const queryStart = s.indexOf('?', at + 1);
  const pathStart = s.indexOf('/', at + 1);
  return { at, queryStart, pathStart: queryStart >= 0 && pathStart > queryStart ? -1 : pathStart };
}

/** The parts of `scheme://[user[:password]@]host[:port]/dbname[?params]` that every server
 * database shares, percent-decoded; each scheme then reads its own parameters. */
interface ServerUrl {
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  database: string;
  params: Array<[string, string]>;
}

function parseServerUrl(rest: string, usage: string): ServerUrl {
  if (!rest.startsWith('//')) fail(`expected ${usage}`);
  let s = rest.slice(2);
  if (s.includes('#')) fail(`unexpected "#" (${ENCODE_HINT})`);

  const { at, queryStart, pathStart } = splitPostgres(s);
  const query = queryStart >= 0 ? s.slice(queryStart + 1) : '';
  if (queryStart >= 0) s = s.slice(0, queryStart);
  const authority = pathStart >= 0 ? s.slice(0, pathStart) : s;
  const path = pathStart >= 0 ? s.slice(pathStart + 1) : '';

  const url: ServerUrl = { database: '', params: [] };
  let hostport = authority;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    hostport = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name');
    if (user) url.user = user;
    if (colon >= 0) {
      const password = decode(userinfo.slice(colon + 1), 'password');
      if (password) url.password = password;
    }
  }
  if (hostport.includes(',')) fail('several hosts in one URL are not supported; name one host');
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) fail('unterminated "[" in an IPv6 host');
    url.host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) fail(`unexpected text after the IPv6 host (${ENCODE_HINT})`);
      url.port = parsePort(after.slice(1), 'after the host');
    }
  } else if (hostport !== '') {
    const colon = hostport.indexOf(':');
    const host = decode(colon >= 0 ? hostport.slice(0, colon) : hostport, 'host');
    if (host) url.host = host;
    if (colon >= 0) url.port = parsePort(hostport.slice(colon + 1), 'after the host');
  }
  if (path.includes('/')) fail(`the database name may not contain "/" (${ENCODE_HINT})`);
  url.database = decode(path, 'database name');
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    url.params.push([decode(eq >= 0 ? pair.slice(0, eq) : pair, 'URL parameters'), decode(eq >= 0 ? pair.slice(eq + 1) : '', 'URL parameters')]);
  }
  return url;
}

function unsupportedParam(key: string, supported: readonly string[]): never {
  return fail(/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `unsupported URL parameter "${key}" (supported: ${supported.join(', ')})` : `unsupported URL parameter (supported: ${supported.join(', ')})`);
}

function parsePostgres(rest: string): DatabaseTarget {
  const url = parseServerUrl(rest, 'postgres://[user[:password]@]host[:port]/dbname');
  const target: Extract<DatabaseTarget, { kind: 'postgres' }> = { kind: 'postgres', database: url.database };
  if (url.user) target.user = url.user;
  if (url.password) target.password = url.password;
  if (url.host) setHost(target, url.host);
  if (url.port !== undefined) target.port = url.port;
  for (const [key, value] of url.params) {
    switch (key) {
      case 'sslmode':
        if (!(SSL_MODES as readonly string[]).includes(value)) {
          fail(`invalid sslmode "${value}" (expected ${SSL_MODES.join(', ')})`);
        }
        target.ssl = value as SslMode;
        break;
      case 'host':
        if (value === '') fail('empty "host" URL parameter');
        setHost(target, value);
        break;
      case 'port':
        target.port = parsePort(value, 'in the "port" URL parameter');
        break;
      case 'user':
        if (value) target.user = value;
        break;
      case 'password':
        if (value) target.password = value;
        break;
      case 'dbname':
        target.database = value;
        break;
      default:
        unsupportedParam(key, PG_PARAMS);
    }
  }
  if (target.database === '') fail('the postgres:// URL names no database (expected postgres://user@host:5432/dbname)');
  return target;
}

/**
 * mysql://[user[:password]@]host[:port]/dbname[?ssl-mode=REQUIRED|VERIFY_CA|VERIFY_IDENTITY|DISABLED]
 * or mysql://user@localhost/dbname?socket=/run/mysqld/mysqld.sock (a host starting with "/",
 * percent-encoded, is the socket too). Delimited as postgres:// URLs are.
 */
function parseMysql(rest: string, scheme: string): DatabaseTarget {
  const url = parseServerUrl(rest, `${scheme}://[user[:password]@]host[:port]/dbname`);
  const target: Extract<DatabaseTarget, { kind: 'mysql' }> = { kind: 'mysql', database: url.database };
  if (url.user) target.user = url.user;
  if (url.password) target.password = url.password;
  if (url.host) {
    if (url.host.startsWith('/')) target.socket = url.host;
    else {
      if (/[\s@/?#,[\]]/.test(url.host)) fail(`invalid host name (${ENCODE_HINT})`);
      target.host = url.host;
    }
  }
  if (url.port !== undefined) target.port = url.port;
  for (const [key, value] of url.params) {
    switch (key.toLowerCase()) {
      case 'ssl-mode':
      case 'ssl_mode': {
        const mode = value.toLowerCase();
        if (mode === 'preferred') fail('ssl-mode=PREFERRED is not supported (TLS or not, never maybe): use REQUIRED or DISABLED');
        if (!(MYSQL_SSL_MODES as readonly string[]).includes(mode)) {
          fail(`invalid ssl-mode "${value}" (expected ${MYSQL_SSL_MODES.map((m) => m.toUpperCase()).join(', ')})`);
        }
        target.ssl = mode as MysqlSslMode;
        break;
      }
      case 'socket':
        if (!value.startsWith('/')) fail('the "socket" URL parameter must be an absolute path');
        target.socket = value;
        delete target.host;
        break;
      default:
        unsupportedParam(key, MYSQL_PARAMS);
    }
  }
  if (target.database === '') fail(`the ${scheme}:// URL names no database (expected ${scheme}://user@host:3306/dbname)`);
  return target;
}

/**
 * Parses the `database` setting. `sqlite:///abs/path` is absolute, `sqlite://./rel/path` (or any
 * path not starting with "/") is resolved against `cwd` (default: process.cwd()). `postgres://`
 * and `postgresql://` URLs are percent-decoded; a host starting with "/" (written `%2Fvar%2Frun%2F...`
 * in the host part, or `?host=/var/run/postgresql`) is a Unix-socket directory.
 * Throws ConfigError (`database: ...`) on anything else; messages never contain the password.
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  if (typeof url !== 'string' || url.trim() === '') fail('must not be empty');
  const text = url.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (!m || m[1]!.length === 1) {
    // No scheme (a drive letter like "C:" is not one either).
    fail('not a URL (expected sqlite:///path/to/db.sqlite3, sqlite://./relative/path, postgres://user@host:5432/dbname or mysql://user@host:3306/dbname)');
  }
  const scheme = m[1]!.toLowerCase();
  const rest = text.slice(m[0].length);
  if (scheme === 'sqlite' || scheme === 'sqlite3') return parseSqlite(rest, cwd);
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(rest);
  if (scheme === 'mysql' || scheme === 'mariadb') return parseMysql(rest, scheme);
  return fail(
    /^[a-z][a-z0-9+.-]{0,20}$/.test(scheme)
      ? `unsupported scheme "${scheme}:" (expected sqlite://, postgres:// or mysql://)`
      : 'unsupported scheme (expected sqlite://, postgres:// or mysql://)',
  );
}

/**
 * The URL with its password (in the user info or a `password=` parameter) replaced by `***`,
 * for logs. Anything it cannot parse is masked generously: everything between the first ":"
 * after "://" (or the start, without a scheme) and the last "@" is hidden.
 */
export function redactDatabaseUrl(url: string): string {
  const text = String(url);
  const sep = text.indexOf('://');
  const head = sep >= 0 ? text.slice(0, sep + 3) : '';
  let rest = sep >= 0 ? text.slice(sep + 3) : text;
  if (/^sqlite3?:/i.test(head)) return text;
  let parsed = sep >= 0;
  try {
    parseDatabaseUrl(text, '/');
  } catch {
    parsed = false;
  }
  if (parsed) {
    const { at, queryStart } = splitPostgres(rest);
    if (queryStart >= 0) {
      rest = rest.slice(0, queryStart) + rest.slice(queryStart).replace(/([?&]password=)[^&]*/gi, '$1***');
    }
    if (at >= 0) {
      const colon = rest.slice(0, at).indexOf(':');
      if (colon >= 0) rest = `${rest.slice(0, colon)}:***${rest.slice(at)}`;
    }
    return head + rest;
  }
  rest = rest.replace(/([?&]password=)[^&]*/gi, '$1***');
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at >= 0 && colon >= 0 && colon < at) rest = `${rest.slice(0, colon)}:***${rest.slice(at)}`;
  else if (at >= 0) rest = `***${rest.slice(at)}`; // what precedes the "@" may be a mangled password
  return head + rest;
}
