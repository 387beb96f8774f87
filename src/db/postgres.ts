// PostgreSQL through node-postgres. Sessions are read-only (default_transaction_read_only) and
// every query has a statement timeout, so neither a bug nor a slow query can harm the site.
//
// Speed (see BENCHMARKS.md, "PostgreSQL profile"): the store's statements are few and fixed
// (their text depends on the mapping and on the shape of a search filter, never on a value), so
// each runs as a named prepared statement: PostgreSQL parses and plans it once per connection
// and then only binds and executes it (db.preparedStatements: false turns this off for poolers
// that lose prepared statements between transactions). Only the first MAX_NAMED distinct
// texts are named, so clients sending ever new filter shapes cannot make every pooled
// connection hold ever more statements. timestamptz values are kept as the text PostgreSQL
// sends: the user model parses its dates only when an entry shows them.
//
// The hot lookups (Apache's user by name, with or without its hash, and its membership test:
// indexed, one or a few rows whatever the data) share one connection in pg's pipeline mode:
// each is written at once, without waiting for the answers before it, and PostgreSQL answers
// them in order. One backend then reads several statements per wake-up and the bridge several
// answers per read, where the pool gave each its own backend to wake: a third to a half less
// of PostgreSQL's CPU and about a third less of the bridge's per lookup (BENCHMARKS.md,
// session 10).
// Each statement still has its own Sync, so it is its own implicit transaction with its own
// snapshot (a change committed before it was sent is seen) and an error fails it alone. Every
// other statement (pages, scans, anything that may take long and would hold up the lookups
// queued behind it) runs on the pool. The pipeline needs named statements: with
// db.preparedStatements off (a pooler in transaction mode) everything runs on the pool.
import pg from 'pg';
import type { DjangoMapping } from '../config/types.js';
import { LeanQuery } from './postgres-lean-query.js';
import type { DatabaseTarget } from '../config/database-url.js';
import { SqlStore, type Row } from './sql-store.js';
import { SchemaGoneError, StoreUnavailableError } from '../directory/store.js';

// Errors that mean "the database is not there right now", not "your query is wrong".
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004', '57014']);

// The database, a mapped table or column is gone (dropped or renamed while we run): invalid
// catalog name, invalid schema name, undefined table, undefined column.
const SCHEMA_GONE = new Set(['3D000', '3F000', '42P01', '42703']);

/** Where and as whom a URL connects, with its TLS, and the timeouts every pool shares. */
export function connectionOptions(target: Extract<DatabaseTarget, { kind: 'postgres' }>): pg.PoolConfig {
  const ssl = target.ssl === 'require' || target.ssl === 'verify-ca' || target.ssl === 'verify-full' ? { rejectUnauthorized: target.ssl !== 'require' } : undefined;
  return {
    host: target.socketDir ?? target.host ?? '127.0.0.1',
    port: target.port ?? 5432,
    user: target.user,
    password: target.password,
    database: target.database,
    ssl,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  };
}

/** What a driver error means to the directory: gone, unavailable, or itself (a bug). */
export function postgresError(e: unknown): unknown {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message ?? '';
  if (SCHEMA_GONE.has(code)) return new SchemaGoneError(msg);
  if (UNAVAILABLE.has(code) || /Connection terminated|timeout exceeded|Query read timeout|connect/i.test(msg)) return new StoreUnavailableError(msg);
  return e;
}

// A prepared statement the connection can no longer use: its result type changed under it (a
// migration altered a column: "cached plan must not change result type"), the server does not
// know it (invalid_sql_statement_name), or knows another of that name (duplicate_prepared_
// statement): the last two behind a pooler in transaction mode, where db.preparedStatements
// should be off. pg-pool discards a connection whose query failed; the query runs once more,
// unnamed.
const STALE_STATEMENT = new Set(['0A000', '26000', '42P05']);

/** How many distinct statement texts get a name (and a plan kept on every connection). */
const MAX_NAMED = 256;

const TIMESTAMPTZ = 1184;
/** pg's parsers, except timestamptz kept as text (parsed by the store when read). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMPTZ && format !== 'binary' ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** The pipelined connection of the hot lookups and the deadline of each statement on it, oldest
 * first (answers come in order). */
interface Pipe {
  client: pg.Client;
  deadlines: number[];
  retiring: boolean;
}

/** Closes a client's socket under it: pg then fails every statement on it ("Connection
 * terminated", unavailable) and the pool or the pipe lets the client go. */
function closeSocket(client: pg.Client | pg.PoolClient): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  /** Statement text -> its name, when prepared statements are on. */
  private readonly names: Map<string, string> | undefined;
  private readonly poolSize: number;
  /** statement_timeout is the server's: a hung server (frozen host, dead network path) would
   * never enforce it, so the client gives up this much later on its own (the watchdog). */
  private readonly backstopMs: number;
  /** Each client running a statement, and when the watchdog gives up on it. */
  private readonly running = new Map<pg.PoolClient, number>();
  private watchdog: NodeJS.Timeout | undefined;
  private readonly listened = new WeakSet<pg.PoolClient>();
  private readonly clientConfig: pg.ClientConfig;
  /** The pipelined connection hot lookups share (created on first use, replaced when lost). */
  private pipe: Pipe | undefined;
  /** Pipes with statements on their way: the current one and any being retired. */
  private readonly pipes = new Set<Pipe>();

  constructor(target: Extract<DatabaseTarget, { kind: 'postgres' }>, map: DjangoMapping, opts: { poolSize?: number; statementTimeoutMs?: number; preparedStatements?: boolean } = {}) {
    super(map, {
      param: (n) => `$${n}`,
      quote: (s) => `"${s.replace(/"/g, '""')}"`,
      likeIsCaseSensitive: true,
      // One array parameter, not a thousand: PostgreSQL parses and plans an IN list of a
      // page's user ids every time, and that costs more than the lookup.
      anyOf: (expr, p) => `${expr} = ANY(${p}::bigint[])`,
      joinIds: (expr) => `string_agg(${expr}::text, ',')`,
      // An untyped parameter takes the column's type: a timestamptz reads the offset, a
      // timestamp (USE_TZ = False) ignores it.
      timestamp: (d) => d.toISOString().replace('T', ' ').replace('Z', '+00:00'),
      // Lookups by name arriving in one turn: one statement (coalesce.ts), one array per column.
      textRows: (params, names) => `unnest(${params.map((p) => `${p}::text[]`).join(', ')}) WITH ORDINALITY AS k(${names.join(', ')}, i)`,
    });
    this.poolSize = opts.poolSize ?? 10;
    this.clientConfig = {
      ...connectionOptions(target),
      statement_timeout: opts.statementTimeoutMs ?? 10000,
      keepAlive: true,
      options: '-c default_transaction_read_only=on',
      application_name: 'django-ldap-bridge',
      types,
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max: this.poolSize });
    this.backstopMs = (opts.statementTimeoutMs ?? 10000) + 2000;
    this.names = opts.preparedStatements === false ? undefined : new Map();
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  /** The name `sql` runs under, or undefined: unnamed (parsed and planned each time). */
  private nameOf(sql: string): string | undefined {
    const names = this.names;
    if (!names) return undefined;
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_NAMED) names.set(sql, (name = `dlb_${names.size + 1}`));
    return name;
  }

  protected async query(sql: string, params: unknown[]): Promise<Row[]> {
    const name = this.nameOf(sql);
    try {
      try {
        if (name !== undefined && this.isHot(sql)) return await this.runPipelined(name, sql, params);
        return await this.runOnPool({ name, text: sql, values: params });
      } catch (e) {
        if (name === undefined || !STALE_STATEMENT.has((e as { code?: string }).code ?? '')) throw e;
        // Unnamed: other pooled connections may hold the same stale statement.
        return await this.runOnPool({ text: sql, values: params });
      }
    } catch (e) {
      throw postgresError(e);
    }
  }

  /** What pool.query does (a client, the statement, the client back; a client whose statement
   * failed is discarded), with the client watched: one timer for the pool, where pg's own
   * query_timeout arms and clears a timer for every statement (~7% of the bridge's CPU per
   * Apache request on PostgreSQL at 8 connections; BENCHMARKS.md). */
  private async runOnPool(q: pg.QueryConfig): Promise<Row[]> {
    const client = await this.pool.connect();
    // A connection lost while checked out is an 'error' on the client as well as the failure of
    // its statement (which we answer): as pool.query does, the event must not crash the process.
    if (!this.listened.has(client)) {
      this.listened.add(client);
      client.on('error', () => {});
    }
    this.running.set(client, Date.now() + this.backstopMs);
    this.watchdog ??= setInterval(this.giveUpOnHung, 200).unref();
    try {
      // A named statement runs as a LeanQuery: described once per connection, not every time.
      const rows = q.name === undefined ? ((await client.query(q)).rows as Row[]) : await this.runNamed(client, q.name, q.text, q.values ?? []);
      this.running.delete(client);
      client.release();
      return rows;
    } catch (e) {
      this.running.delete(client);
      client.release(e as Error);
      throw e;
    }
  }

  /** A hot lookup on the shared pipelined connection. A statement that fails retires that
   * connection (as the pool discards a client whose statement failed: a stale prepared
   * statement must not stay); the statements already on it still get their answers. */
  private runPipelined(name: string, text: string, values: unknown[]): Promise<Row[]> {
    const pipe = this.openPipe();
    pipe.deadlines.push(Date.now() + this.backstopMs);
    this.watchdog ??= setInterval(this.giveUpOnHung, 200).unref();
    return new Promise((resolve, reject) => {
      pipe.client.query(
        new LeanQuery(name, text, values, types, (err, rows) => {
          pipe.deadlines.shift();
          if (err) {
            this.retire(pipe);
            reject(err);
            return;
          }
          if (pipe.retiring && pipe.deadlines.length === 0) this.endPipe(pipe);
          resolve(rows as Row[]);
        }) as unknown as pg.QueryConfig,
      );
    });
  }

  private openPipe(): Pipe {
    if (this.pipe) return this.pipe;
    const pipe: Pipe = { client: new pg.Client({ ...this.clientConfig, pipeline: true } as pg.ClientConfig), deadlines: [], retiring: false };
    // A lost connection fails what is on it (pg answers each statement with the error) and
    // the next lookup opens another.
    pipe.client.on('error', () => this.retire(pipe));
    pipe.client.on('end', () => this.retire(pipe));
    pipe.client.connect().catch(() => this.retire(pipe));
    this.pipe = pipe;
    this.pipes.add(pipe);
    return pipe;
  }

  /** No new statement goes to `pipe`; it closes once those on it are answered. */
  private retire(pipe: Pipe): void {
    if (this.pipe === pipe) this.pipe = undefined;
    pipe.retiring = true;
    if (pipe.deadlines.length === 0) this.endPipe(pipe);
  }

  private endPipe(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    pipe.client.end().catch(() => {});
  }

  private runNamed(client: pg.PoolClient, name: string, text: string, values: unknown[]): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      client.query(new LeanQuery(name, text, values, types, (err, rows) => (err ? reject(err) : resolve(rows as Row[]))) as unknown as pg.QueryConfig);
    });
  }

  /** Closes the socket of every client past its deadline: its statement then fails as
   * "Connection terminated" (unavailable), and the pool discards the client. */
  private readonly giveUpOnHung = (): void => {
    const now = Date.now();
    for (const [client, deadline] of this.running) {
      if (now <= deadline) continue;
      this.running.delete(client);
      closeSocket(client);
    }
    // A pipe answers in order: its oldest statement past its deadline means a hung connection,
    // and closing it fails everything on it (unavailable), as the pool's clients above.
    for (const pipe of this.pipes) {
      if (pipe.deadlines.length === 0 || now <= pipe.deadlines[0]) continue;
      this.retire(pipe);
      closeSocket(pipe.client);
    }
    if (this.running.size === 0 && this.watchdog && ![...this.pipes].some((p) => p.deadlines.length > 0)) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
  };

  /** The user name and group name columns are text or varchar (not citext, not a domain). */
  protected override async namesAreText(): Promise<boolean> {
    const cols: Array<[string, string]> = [[this.map.users.table, this.map.users.username]];
    if (this.map.groups) cols.push([this.map.groups.table, this.map.groups.name]);
    for (const [table, column] of cols) {
      const rows = await this.query('SELECT format_type(a.atttypid, NULL) AS t FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped', [`"${table.replace(/"/g, '""')}"`, column]);
      if (!rows.length || !['text', 'character varying'].includes(String(rows[0].t))) return false;
    }
    return true;
  }

  protected override gatherAbove(): number {
    return this.poolSize;
  }

  protected override busy(): boolean {
    const p = this.pool;
    return p.waitingCount > 0 || (p.idleCount === 0 && p.totalCount >= this.poolSize);
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.pipe = undefined;
    for (const pipe of this.pipes) this.endPipe(pipe);
    await this.pool.end();
  }
}
