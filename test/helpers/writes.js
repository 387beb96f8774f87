// Changes to a SQLite database made from another process, as Django would make them (the
// bridge holds a read lock for at most one event-loop turn; a writer in the test's own process
// would wait on it synchronously and block that turn from ending).
import { spawn } from 'node:child_process';

/** Runs SQL statements in another process, each in its own transaction. */
export function sqliteWrites(path, statements) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 5000 });
    for (const s of JSON.parse(process.argv[2])) db.prepare(s).run();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, path, JSON.stringify(statements)], { cwd: process.cwd() });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
  });
}
