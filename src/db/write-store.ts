// The opt-in writes (src/directory/writer.ts) on SQLite, PostgreSQL and MySQL/MariaDB: a connection of their
// own, opened only when a write setting is on, with its own URL (writes.database: a role that
// may UPDATE the user table), so the read connection keeps its read-only sessions. Two
// statements, written once against the configured mapping: the stored hash, replaced only if
// it is still the one the caller checked (a change Django made meanwhile wins), and
// last_login, only moved forwards. Every value is a bound parameter; identifiers come from the
// config and are quoted.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DjangoMapping } from '../config/types.js';
import type { DatabaseTarget } from '../config/database-url.js';
import { SchemaGoneError, StoreUnavailableError } from '../directory/store.js';
import type { DirectoryWriter, LastLogin } from '../directory/writer.js';
import mysql from 'mysql2/promise';
import { connectionOptions, postgresError } from './postgres.js';
import { connectionOptions as mysqlConnectionOptions, isUnavailable as mysqlUnavailable, SCHEMA_GONE_ERRNO as MYSQL_SCHEMA_GONE, type MysqlTarget } from './mysql.js';

const ansiQuote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** The two statements, with `p(n)` the n-th placeholder, `quote` the dialect's identifier
 * quoting and `same(a, b)` its exact comparison (MySQL's collations ignore case: the expected
 * hash is compared as bytes there). */
function statements(
  map: DjangoMapping,
  p: (n: number) => string,
  quote: (s: string) => string = ansiQuote,
  same: (a: string, b: string) => string = (a, b) => `${a} = ${b}`,
): { password: string; lastLogin: string | undefined } {
  const u = map.users;
  const t = quote(u.table);
  const id = quote(u.id);
  const pw = quote(u.password);
  const ll = u.lastLogin === null ? undefined : quote(u.lastLogin);
  return {
    password: `UPDATE ${t} SET ${pw} = ${p(1)} WHERE ${id} = ${p(2)} AND ${same(pw, p(3))}`,
    lastLogin: ll && `UPDATE ${t} SET ${ll} = ${p(1)} WHERE ${id} = ${p(2)} AND (${ll} IS NULL OR ${ll} < ${p(3)})`,
  };
}

/** How long a SQLite write waits for Django's (or our own read turn's) lock before giving up. */
const SQLITE_BUSY_WAIT_MS = 5000;

/** Django's text form of a UTC datetime in SQLite (and MySQL's DATETIME): "YYYY-MM-DD HH:MM:SS.ffffff". */
function sqliteDatetime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '000');
}

/**
 * SQLite: the database file opened a second time, read-write. better-sqlite3 is synchronous, so
 * a busy timeout would stop the whole bridge while it waits, and the lock it waits for may be
 * our own read connection's (held until the end of the event-loop turn): a busy database is
 * retried on a timer instead, the bridge serving others meanwhile.
 */
export class SqliteWriter implements DirectoryWriter {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly sql: ReturnType<typeof statements>;

  constructor(path: string, map: DjangoMapping) {
    this.db = new Database(path, { fileMustExist: true });
    this.db.pragma('busy_timeout = 0');
    this.sql = statements(map, () => '?');
  }

  private async run<T>(work: () => T): Promise<T> {
    const deadline = Date.now() + SQLITE_BUSY_WAIT_MS;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        return work();
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        const msg = (e as Error).message ?? '';
        const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
        if (busy && Date.now() + wait < deadline) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        if (busy || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || /^no such (table|column)/.test(msg)) throw new StoreUnavailableError(msg);
        throw e;
      }
    }
  }

  async setPassword(userId: number, hash: string, expected: string): Promise<boolean> {
    return this.run(() => this.db.prepare(this.sql.password).run(hash, userId, expected).changes === 1);
  }

  async setLastLogins(logins: readonly LastLogin[]): Promise<void> {
    const sql = this.sql.lastLogin;
    if (!sql || !logins.length) return;
    const st = this.db.prepare(sql);
    const all = this.db.transaction((list: readonly LastLogin[]) => {
      for (const l of list) {
        const at = sqliteDatetime(l.at);
        st.run(at, l.userId, at);
      }
    });
    await this.run(() => all(logins));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** PostgreSQL: a small pool of ordinary (read-write) sessions as the write role. */
export class PostgresWriter implements DirectoryWriter {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly sql: ReturnType<typeof statements>;

  constructor(target: Extract<DatabaseTarget, { kind: 'postgres' }>, map: DjangoMapping, statementTimeoutMs: number) {
    this.pool = new pg.Pool({
      ...connectionOptions(target),
      max: 2,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 2000,
      application_name: 'django-ldap-bridge (writes)',
    });
    this.pool.on('error', () => {});
    this.sql = statements(map, (n) => `$${n}`);
  }

  async setPassword(userId: number, hash: string, expected: string): Promise<boolean> {
    try {
      const r = await this.pool.query(this.sql.password, [hash, userId, expected]);
      return r.rowCount === 1;
    } catch (e) {
      throw postgresError(e);
    }
  }

  async setLastLogins(logins: readonly LastLogin[]): Promise<void> {
    const sql = this.sql.lastLogin;
    if (!sql || !logins.length) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      for (const l of logins) await client.query(sql, [l.at, l.userId, l.at]);
      await client.query('COMMIT');
    } catch (e) {
      await client?.query('ROLLBACK').catch(() => {});
      throw postgresError(e);
    } finally {
      client?.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** What a mysql2 error means to the directory: gone, unavailable, or itself (a bug, a missing grant). */
function mysqlError(e: unknown): unknown {
  const msg = (e as Error).message ?? '';
  if (MYSQL_SCHEMA_GONE.has((e as { errno?: number }).errno ?? 0)) return new SchemaGoneError(msg);
  if (mysqlUnavailable(e)) return new StoreUnavailableError(msg);
  return e;
}

/**
 * MySQL/MariaDB: a small pool of ordinary (read-write) sessions as the write user, apart from
 * the read pool (whose sessions are READ ONLY). Values go as server-side prepared-statement
 * parameters. Django keeps DATETIME in UTC without a zone, so last_login is bound as that text
 * (no driver or session time-zone conversion can shift it).
 */
export class MysqlWriter implements DirectoryWriter {
  readonly kind = 'mysql';
  private readonly pool: mysql.Pool;
  private readonly sql: ReturnType<typeof statements>;
  private readonly timeoutMs: number;
  private readonly prepared = new WeakSet<object>();

  constructor(target: MysqlTarget, map: DjangoMapping, statementTimeoutMs: number) {
    this.pool = mysql.createPool({
      ...mysqlConnectionOptions(target),
      connectionLimit: 2,
      maxIdle: 2,
      idleTimeout: 30000,
      enableKeepAlive: true,
      waitForConnections: true,
      queueLimit: 0,
      // The session's lock-wait timeouts below would be dropped by a reset.
      resetOnRelease: false,
      maxPreparedStatements: 16,
      multipleStatements: false,
      namedPlaceholders: false,
      infileStreamFactory: undefined,
    });
    this.pool.pool.on('error', () => {});
    const bytes = (x: string) => `CAST(${x} AS BINARY)`;
    this.sql = statements(map, () => '?', (s) => '`' + s.replace(/`/g, '``') + '`', (a, b) => `${bytes(a)} = ${bytes(b)}`);
    this.timeoutMs = statementTimeoutMs;
  }

  /** A connection whose session waits for row and table locks no longer than the statement timeout. */
  private async connection(): Promise<mysql.PoolConnection> {
    const conn = await this.pool.getConnection();
    if (!this.prepared.has(conn.connection)) {
      const s = Math.max(1, Math.ceil(this.timeoutMs / 1000));
      try {
        await conn.query(`SET SESSION innodb_lock_wait_timeout = ${s}, lock_wait_timeout = ${s}`);
      } catch (e) {
        conn.destroy();
        throw e;
      }
      this.prepared.add(conn.connection);
    }
    return conn;
  }

  /** The client-side backstop for a server that stops answering (it closes the connection). */
  private get timeout(): number | undefined {
    return this.timeoutMs > 0 ? this.timeoutMs + 5000 : undefined;
  }

  async setPassword(userId: number, hash: string, expected: string): Promise<boolean> {
    let conn: mysql.PoolConnection | undefined;
    try {
      conn = await this.connection();
      const [r] = await conn.execute({ sql: this.sql.password, values: [hash, userId, expected], timeout: this.timeout });
      return (r as mysql.ResultSetHeader).affectedRows === 1;
    } catch (e) {
      throw mysqlError(e);
    } finally {
      conn?.release();
    }
  }

  async setLastLogins(logins: readonly LastLogin[]): Promise<void> {
    const sql = this.sql.lastLogin;
    if (!sql || !logins.length) return;
    let conn: mysql.PoolConnection | undefined;
    try {
      conn = await this.connection();
      await conn.beginTransaction();
      for (const l of logins) {
        const at = sqliteDatetime(l.at);
        await conn.execute({ sql, values: [at, l.userId, at], timeout: this.timeout });
      }
      await conn.commit();
    } catch (e) {
      await conn?.rollback().catch(() => {});
      throw mysqlError(e);
    } finally {
      conn?.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The writer for a write URL. */
export function openWriter(target: DatabaseTarget, map: DjangoMapping, statementTimeoutMs: number): DirectoryWriter {
  if (target.kind === 'sqlite') return new SqliteWriter(target.path, map);
  if (target.kind === 'postgres') return new PostgresWriter(target, map, statementTimeoutMs);
  return new MysqlWriter(target, map, statementTimeoutMs);
}
