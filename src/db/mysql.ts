// MySQL and MariaDB through mysql2. Like postgres.ts: pooled connections, each made read-only
// (SET SESSION TRANSACTION READ ONLY) before its first query, a statement timeout on the server
// (MariaDB max_statement_time, MySQL max_execution_time) with a client-side backstop, and
// "the server is not there" errors mapped to StoreUnavailableError.
//
// Collations. MySQL compares strings by the column's collation, and Django creates its tables
// with the database's default: usually case- and accent-insensitive (utf8mb4_general_ci,
// utf8mb4_unicode_ci, utf8mb4_0900_ai_ci), and PAD SPACE ("alice" = "alice ") even in
// utf8mb4_bin. So wherever sql-store's SQL means "exactly" the dialect below compares the bytes
// (CAST(... AS BINARY)), next to the plain `=` that lets the index find the candidates; LIKE is
// compared as bytes too. Two consequences for a Django site on a case-insensitive collation:
//   - Django's unique index on auth_user.username makes "alice" and "Alice" (and "alicé",
//     "alice ") the same key: such case twins cannot exist there, only on a _bin collation.
//   - Django itself then matches logins case- (and accent-) insensitively, since its
//     get(username=...) is a collation `=`. The bridge does not: by default usernames match
//     exactly (uid=ALICE finds nobody); users.caseInsensitive: true matches them case-
//     insensitively (lower() = lower(), compared exactly: accents and trailing spaces still count).
import mysql from 'mysql2/promise';
import type { DjangoMapping } from '../config/types.js';
import type { DatabaseTarget } from '../config/database-url.js';
import { SqlStore, type Row } from './sql-store.js';
import { SchemaGoneError, StoreUnavailableError } from '../directory/store.js';

export type MysqlTarget = Extract<DatabaseTarget, { kind: 'mysql' }>;

// Errors that mean "the database is not there right now", not "your query is wrong": network
// errors, the connection dropped or timed out (mysql2's PROTOCOL_*), too many connections,
// server shutting down, the query killed or past its statement timeout.
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_USER_LIMIT_REACHED', 'ER_SERVER_SHUTDOWN', 'ER_NORMAL_SHUTDOWN', 'ER_SHUTDOWN_COMPLETE',
  'ER_QUERY_INTERRUPTED', 'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_CONNECTION_KILLED', 'ER_SERVER_OFFLINE_MODE',
  'ER_LOCK_WAIT_TIMEOUT', 'ER_HOST_IS_BLOCKED', 'ER_OUT_OF_RESOURCES',
]);
// The same by number, for servers whose codes mysql2 does not name.
const UNAVAILABLE_ERRNO = new Set([1040, 1203, 1226, 1053, 1077, 1079, 1317, 1969, 3024, 1927, 3032, 1205, 1129, 1041, 2002, 2003, 2006, 2013]);

// The database, a mapped table or column is gone (dropped or renamed while we run):
// ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR.
export const SCHEMA_GONE_ERRNO = new Set([1049, 1146, 1054]);

export function isUnavailable(e: unknown): boolean {
  const err = e as { code?: string; errno?: number; fatal?: boolean; message?: string };
  if (err.code && UNAVAILABLE.has(err.code)) return true;
  if (typeof err.errno === 'number' && UNAVAILABLE_ERRNO.has(err.errno)) return true;
  // Any other answer from the server is final, even when it ends the connection: access denied
  // (1045, 1698), unknown database (1049) are said at start as such, not retried.
  if (typeof err.errno === 'number' && err.errno < 2000) return false;
  // A fatal error closes the connection: whatever it was, the query did not run.
  if (err.fatal) return true;
  return /Pool is closed|connect ETIMEDOUT|Connection lost/i.test(err.message ?? '');
}

/** Where and as whom a URL connects, with its TLS: shared by the read pool and the write pool (write-store.ts). */
export function connectionOptions(target: MysqlTarget): mysql.PoolOptions {
  const ssl = target.ssl && target.ssl !== 'disabled' ? (target.ssl === 'required' ? { rejectUnauthorized: false } : target.ssl === 'verify_ca' ? { rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: true }) : undefined;
  return {
    ...(target.socket ? { socketPath: target.socket } : { host: target.host ?? '127.0.0.1', port: target.port ?? 3306 }),
    user: target.user,
    password: target.password,
    database: target.database,
    ssl,
    charset: 'utf8mb4',
    connectTimeout: 5000,
  };
}

/** `CAST(x AS BINARY)`: the UTF-8 bytes, compared without collation, case folding or padding. */
const bytes = (expr: string) => `CAST(${expr} AS BINARY)`;

// The collation `=` that lets an index find candidates is marked. On a legacy utf8mb3 ("utf8")
// table it fails ("Illegal mix of collations", 1267) for a value with 4-byte characters (an
// emoji in a uid); the statement is then run again with each marked part, which holds exactly
// one placeholder, replaced by `? IS NOT NULL`: the byte comparison alone, same parameters.
const IX_OPEN = '/*ix*/';
const IX_CLOSE = '/*/ix*/';
const IX_PART = /\/\*ix\*\/[\s\S]*?\/\*\/ix\*\//g;
const COLLATION_MIX = new Set([1267, 1270, 1271]);

export class MysqlStore extends SqlStore {
  readonly kind = 'mysql';
  private readonly pool: mysql.Pool;
  /** Connections whose session has been made read-only (keyed by mysql2's core connection). */
  private readonly prepared = new WeakSet<object>();
  private readonly statementTimeoutMs: number;

  constructor(target: MysqlTarget, map: DjangoMapping, opts: { poolSize?: number; statementTimeoutMs?: number } = {}) {
    super(map, {
      // Positional: sql-store binds parameters in text order.
      param: () => '?',
      quote: (s) => '`' + s.replace(/`/g, '``') + '`',
      likeIsCaseSensitive: false,
      exact: {
        // The plain `=` (a superset under any collation) keeps the index; the bytes decide.
        equals: (expr, bind) => `(${IX_OPEN}${expr} = ${bind()}${IX_CLOSE} AND ${bytes(expr)} = ${bytes(bind())})`,
        nonEmpty: (expr) => `${bytes(expr)} <> ''`,
        // Only "%" wildcards reach here (sql-store escapes "%", "_" and "\"): matched bytewise,
        // a UTF-8 piece can only match at character boundaries. The session runs with
        // NO_BACKSLASH_ESCAPES, so '\' is one backslash.
        like: (expr, bind) => `${bytes(expr)} LIKE ${bytes(bind())} ESCAPE '\\'`,
      },
      bigint: (p) => `CAST(${p} AS SIGNED)`,
    });
    this.statementTimeoutMs = opts.statementTimeoutMs ?? 10000;
    this.pool = mysql.createPool({
      ...connectionOptions(target),
      connectionLimit: opts.poolSize ?? 10,
      maxIdle: opts.poolSize ?? 10,
      idleTimeout: 30000,
      enableKeepAlive: true,
      waitForConnections: true,
      queueLimit: 0,
      // A reset (COM_RESET_CONNECTION) would drop the read-only session settings.
      resetOnRelease: false,
      // Django stores DATETIME in UTC without a zone: read the text, sql-store reads it as UTC.
      dateStrings: true,
      supportBigNumbers: true,
      // Server-side prepared statements: values never pass through client-side escaping (which
      // NO_BACKSLASH_ESCAPES would defeat). Each connection keeps at most this many, well under
      // the server's max_prepared_stmt_count (16382) for the whole pool.
      maxPreparedStatements: 256,
      multipleStatements: false,
      namedPlaceholders: false,
      // Never LOAD DATA LOCAL.
      infileStreamFactory: undefined,
    });
    // An idle connection losing the server must not crash the process; the next query reconnects.
    this.pool.pool.on('error', () => {});
  }

  /** Before a connection's first query: read-only, known sql_mode, UTC, statement timeout. */
  private async prepareSession(conn: mysql.PoolConnection): Promise<void> {
    await conn.query('SET SESSION TRANSACTION READ ONLY');
    // NO_BACKSLASH_ESCAPES: LIKE's ESCAPE '\' means what it says, whatever the server's
    // sql_mode (ANSI_QUOTES, PIPES_AS_CONCAT... are off: the SQL is written for this mode).
    await conn.query(`SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES', time_zone = '+00:00'`);
    const ms = Math.max(0, Math.round(this.statementTimeoutMs));
    if (ms > 0) {
      // Waiting for a table lock (Django's LOCK TABLES, a migration's ALTER) counts too.
      await conn.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(ms / 1000))}`);
      try {
        await conn.query(`SET SESSION max_statement_time = ${(ms / 1000).toFixed(3)}`); // MariaDB, seconds
      } catch (e) {
        if ((e as { errno?: number }).errno !== 1193) throw e; // ER_UNKNOWN_SYSTEM_VARIABLE: MySQL
        await conn.query(`SET SESSION max_execution_time = ${ms}`); // MySQL 5.7.8+, SELECT only, ms
      }
    }
  }

  protected async query(sql: string, params: unknown[]): Promise<Row[]> {
    let conn: mysql.PoolConnection | undefined;
    try {
      conn = await this.pool.getConnection();
      if (!this.prepared.has(conn.connection)) {
        try {
          await this.prepareSession(conn);
        } catch (e) {
          // Never run a query on a session that is not read-only.
          conn.destroy();
          conn = undefined;
          throw e;
        }
        this.prepared.add(conn.connection);
      }
      // The client-side timeout is a backstop for a server that stops answering altogether
      // (it closes the connection); the server's own timeout ends slow queries first.
      const timeout = this.statementTimeoutMs > 0 ? this.statementTimeoutMs + 5000 : undefined;
      try {
        const [rows] = await conn.execute({ sql, values: params, timeout });
        return rows as Row[];
      } catch (e) {
        if (!COLLATION_MIX.has((e as { errno?: number }).errno ?? 0) || !sql.includes(IX_OPEN)) throw e;
        const [rows] = await conn.execute({ sql: sql.replace(IX_PART, '? IS NOT NULL'), values: params, timeout });
        return rows as Row[];
      }
    } catch (e) {
      if (SCHEMA_GONE_ERRNO.has((e as { errno?: number }).errno ?? 0)) throw new SchemaGoneError((e as Error).message);
      if (isUnavailable(e)) throw new StoreUnavailableError((e as Error).message);
      throw e;
    } finally {
      conn?.release();
    }
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    const p = this.pool.pool as unknown as { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } };
    return { total: p._allConnections?.length ?? 0, idle: p._freeConnections?.length ?? 0, waiting: p._connectionQueue?.length ?? 0 };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
