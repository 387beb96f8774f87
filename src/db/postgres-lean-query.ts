// A named prepared statement run without describing its result every time. Hand-written (a pg
// "submittable", the extension point pg-cursor and pg-query-stream use) because pg's own Query
// sends Describe with every execution and then builds the result's field list and type parsers
// again from the RowDescription that comes back: for Apache's one-row lookups that was ~10% of
// the bridge's CPU on PostgreSQL (BENCHMARKS.md, session 9). A prepared statement's result
// shape cannot change under it without PostgreSQL failing the execution ("cached plan must not
// change result type"), so the shape is kept per connection and statement name from the first
// execution, which describes as pg does, and forgotten on any error of that statement.
//
// Everything else is pg's: the Parse the first time (pg's own bookkeeping of what each
// connection has parsed, so its Query and this share names safely), pg's value encoding,
// the wire messages, the client's queue and error handling.
//
// A LeanQuery also runs on a pipelined pg Client (PostgresStore's shared connection for hot
// lookups). pg's pipeline mode refuses submittables that are not its Query, because a cursor's
// portal stays open across round trips and the statements written behind it would be answered
// out of it. A LeanQuery runs the unnamed portal to its end within one Sync, as pg's Query
// does, so it is safe there: it declares so by having Query's prototype behind its own.
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Row } from './sql-store.js';

/** The parts of pg's connection this uses (pg/lib/connection.js). */
interface PgConnection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: unknown }): void;
  describe(m: { type: 'P' | 'S'; name: string }): void;
  execute(m: { portal: string; rows?: number }): void;
  sync(): void;
  sendCopyFail(msg: string): void;
}

interface Field {
  name: string;
  dataTypeID: number;
  format?: string;
}

/** A statement's result shape: column names and the parser of each. */
interface Shape {
  names: string[];
  parsers: Array<(raw: string) => unknown>;
}

type TypeParsers = { getTypeParser(oid: number, format: 'text'): (raw: string) => unknown };

// pg's own value encoding (arrays to array literals, dates, buffers, ...), as its Query uses it.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };

/** Per pg connection: statement name -> its result shape. */
const shapes = new WeakMap<PgConnection, Map<string, Shape>>();

export class LeanQuery {
  private shape: Shape | undefined;
  /** Not `rows`: pg reads a query's `rows` as the cursor option, which pipeline mode refuses. */
  private readonly received: Row[] = [];
  private failed: Error | undefined;
  private connection: PgConnection | undefined;

  constructor(
    readonly name: string,
    readonly text: string,
    private readonly values: unknown[],
    private readonly types: TypeParsers,
    readonly callback: (err: Error | null, rows?: Row[]) => void,
  ) {}

  submit(connection: PgConnection): Error | null {
    const previous = connection.parsedStatements[this.name] ?? connection.submittedNamedStatements[this.name];
    if (previous !== undefined && previous !== this.text) return new Error(`Prepared statements must be unique - '${this.name}' was used for a different statement`);
    this.connection = connection;
    this.shape = previous !== undefined ? shapes.get(connection)?.get(this.name) : undefined;
    connection.stream.cork?.();
    try {
      if (previous === undefined) {
        connection.parse({ text: this.text, name: this.name, types: [] });
        connection.submittedNamedStatements[this.name] = this.text;
      }
      connection.bind({ portal: '', statement: this.name, values: this.values, binary: false, valueMapper: prepareValue });
      if (!this.shape) connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '' });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: Field[] }): void {
    const shape: Shape = { names: msg.fields.map((f) => f.name), parsers: msg.fields.map((f) => this.types.getTypeParser(f.dataTypeID, 'text')) };
    this.shape = shape;
    const c = this.connection as PgConnection;
    let m = shapes.get(c);
    if (!m) shapes.set(c, (m = new Map()));
    m.set(this.name, shape);
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    const shape = this.shape;
    if (!shape || shape.names.length !== msg.fields.length) {
      this.failed ??= new Error(`statement ${this.name}: a row of ${msg.fields.length} columns, expected ${shape?.names.length ?? 'a description first'}`);
      return;
    }
    if (this.failed) return;
    const row: Row = {};
    try {
      for (let i = 0; i < msg.fields.length; i++) {
        const raw = msg.fields[i];
        row[shape.names[i]] = raw === null ? null : shape.parsers[i](raw);
      }
    } catch (e) {
      this.failed = e as Error;
      return;
    }
    this.received.push(row);
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('No source stream defined');
  }
  handleCopyData(): void {}

  handleError(err: Error): void {
    this.fail(this.failed ?? err);
  }

  handleReadyForQuery(): void {
    if (this.failed) this.fail(this.failed);
    else this.callback(null, this.received);
  }

  /** Whatever failed, this statement is described again on its next execution here. */
  private fail(err: Error): void {
    if (this.connection) shapes.get(this.connection)?.delete(this.name);
    this.callback(err);
  }
}

Object.setPrototypeOf(LeanQuery.prototype, pg.Query.prototype);
