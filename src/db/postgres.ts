// PostgreSQL through node-postgres. Sessions are read-only (default_transaction_read_only) and
// every query has a statement timeout, so neither a bug nor a slow query can harm the site.
import pg from 'pg';
import type { DjangoMapping } from '../config/types.js';
import type { DatabaseTarget } from '../config/database-url.js';
import { SqlStore, type Row } from './sql-store.js';
import { SchemaGoneError, StoreUnavailableError } from '../directory/store.js';

// Errors that mean "the database is not there right now", not "your query is wrong".
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004', '57014']);

// The database, a mapped table or column is gone (dropped or renamed while we run): invalid
// catalog name, invalid schema name, undefined table, undefined column.
const SCHEMA_GONE = new Set(['3D000', '3F000', '42P01', '42703']);

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;

  constructor(target: Extract<DatabaseTarget, { kind: 'postgres' }>, map: DjangoMapping, opts: { poolSize?: number; statementTimeoutMs?: number } = {}) {
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
    });
    const ssl = target.ssl === 'require' || target.ssl === 'verify-ca' || target.ssl === 'verify-full' ? { rejectUnauthorized: target.ssl !== 'require' } : undefined;
    this.pool = new pg.Pool({
      host: target.socketDir ?? target.host ?? '127.0.0.1',
      port: target.port ?? 5432,
      user: target.user,
      password: target.password,
      database: target.database,
      ssl,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      statement_timeout: opts.statementTimeoutMs ?? 10000,
      // statement_timeout is the server's: a hung server (frozen host, dead network path)
      // would never enforce it, so the client gives up a little later on its own.
      query_timeout: (opts.statementTimeoutMs ?? 10000) + 2000,
      keepAlive: true,
      options: '-c default_transaction_read_only=on',
      application_name: 'django-ldap-bridge',
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  protected async query(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      const r = await this.pool.query(sql, params);
      return r.rows as Row[];
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      const msg = (e as Error).message ?? '';
      if (SCHEMA_GONE.has(code)) throw new SchemaGoneError(msg);
      if (UNAVAILABLE.has(code) || /Connection terminated|timeout exceeded|Query read timeout|connect/i.test(msg)) throw new StoreUnavailableError(msg);
      throw e;
    }
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
