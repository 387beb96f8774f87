// SQLite through better-sqlite3, opened read-only: the bridge never writes to Django's data.
// better-sqlite3 is synchronous, and SQLite has no statement timeout (and better-sqlite3 no
// progress handler or interrupt): a statement holds the whole bridge until it ends. So no
// statement a client can shape may run unbounded: a scan no index narrows (a search filter on
// anything but the username or id) runs in id windows sized so one statement examines at
// most SCAN_BUDGET row-terms (some 10-30 ms, whatever the filter), yielding to the
// event loop between windows and stopping at the search's time limit (SqlStore.scanPage).
// Everything else is an indexed lookup or a page of one.
//
// The queries of one event-loop turn share one read transaction. On its own every SELECT
// takes and drops SQLite's shared lock, re-checks the file's change counter and looks for a
// hot journal: about eight system calls, more than the lookup itself costs. Under load a turn
// answers several clients' operations, and they all read one consistent snapshot taken at
// the turn's first query; the lock is dropped when the turn ends (setImmediate), so Django's
// writers wait at most one turn, as they would for a single statement.
import Database from 'better-sqlite3';
import type { DjangoMapping } from '../config/types.js';
import { SqlStore, type Row } from './sql-store.js';
import { SchemaError, SchemaGoneError, StoreUnavailableError } from '../directory/store.js';

/** Rows times filter terms one statement of a scan may examine: SQLite evaluates a few million
 * a second (a 1,000-substring OR over 300,000 users took 58 s in one statement). */
const SCAN_BUDGET = 100_000;

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private inTurn = false;
  private readonly endTurn = () => {
    this.inTurn = false;
    if (this.db.open && this.db.inTransaction) this.commit.run();
  };

  constructor(path: string, map: DjangoMapping) {
    super(map, {
      // `+?`, not `?`: on a database that has been ANALYZEd (sqlite_stat4), a bare parameter
      // compared in a join lets the planner look at its value, and then SQLite re-prepares
      // the statement whenever the value changes, i.e. on every run (~12 µs, five times the
      // lookup). Unary plus is a no-op on the value and on the comparison's affinity (the
      // column's applies, as to a bare parameter) and still uses the index.
      param: () => '+?',
      quote: (s) => `"${s.replace(/"/g, '""')}"`,
      likeIsCaseSensitive: false,
      // A bare `LIMIT ?` costs SQLite a re-prepare of the statement on every run (about 10 µs,
      // three times the indexed lookup it limits); the same bound value through CAST does not.
      limit: (p) => `CAST(${p} AS INTEGER)`,
      joinIds: (expr) => `group_concat(${expr}, ',')`,
      scanBudget: SCAN_BUDGET,
    });
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      // Django writes while we read: wait briefly for its write lock instead of failing.
      this.db.pragma('busy_timeout = 2000');
      this.begin = this.db.prepare('BEGIN');
      this.commit = this.db.prepare('COMMIT');
    } catch (e) {
      throw new SchemaError(`database: cannot open SQLite file "${path}": ${(e as Error).message}`);
    }
  }

  protected async query(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      let st = this.statements.get(sql);
      if (!st) {
        st = this.db.prepare(sql);
        // Prepared statements are cached by text; the text never holds a value (all are bound).
        if (this.statements.size < 500) this.statements.set(sql, st);
      }
      if (!this.inTurn) {
        this.inTurn = true;
        setImmediate(this.endTurn);
        if (!this.db.inTransaction) this.begin.run();
      }
      return st.all(...params) as Row[];
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      const msg = (e as Error).message ?? '';
      // A mapped table or column renamed or dropped while we run (prepare or step says so).
      if (code === 'SQLITE_ERROR' && /^no such (table|column)/.test(msg)) throw new SchemaGoneError(msg);
      // The file gone or unreadable (extended codes: SQLITE_IOERR_READ, SQLITE_CANTOPEN_...).
      if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_NOTADB' || code === 'SQLITE_READONLY_DBMOVED') {
        throw new StoreUnavailableError(msg);
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.db.inTransaction) this.commit.run();
    this.db.close();
  }
}
