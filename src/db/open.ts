// Picks the store for a database URL.
import type { BridgeConfig } from '../config/types.js';
import { parseDatabaseUrl } from '../config/database-url.js';
import type { DirectoryStore } from '../directory/store.js';
import { SqliteStore } from './sqlite.js';
import { PostgresStore } from './postgres.js';
import { MysqlStore } from './mysql.js';

export function openStore(config: Pick<BridgeConfig, 'database' | 'django'> & Partial<Pick<BridgeConfig, 'db'>>, cwd = process.cwd()): DirectoryStore {
  const target = parseDatabaseUrl(config.database, cwd);
  if (target.kind === 'sqlite') return new SqliteStore(target.path, config.django);
  const opts = { poolSize: config.db?.poolSize, statementTimeoutMs: config.db ? config.db.statementTimeoutSeconds * 1000 : undefined, preparedStatements: config.db?.preparedStatements };
  if (target.kind === 'mysql') return new MysqlStore(target, config.django, opts);
  return new PostgresStore(target, config.django, opts);
}
