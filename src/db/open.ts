// Picks the store for a database URL.
import type { BridgeConfig } from '../config/types.js';
import { parseDatabaseUrl } from '../config/database-url.js';
import type { DirectoryStore } from './store.js';
import { SqliteStore } from './sqlite.js';
import { PostgresStore } from './postgres.js';

export function openStore(config: Pick<BridgeConfig, 'database' | 'django'>, cwd = process.cwd()): DirectoryStore {
  const target = parseDatabaseUrl(config.database, cwd);
  if (target.kind === 'sqlite') return new SqliteStore(target.path, config.django);
  return new PostgresStore(target, config.django);
}
