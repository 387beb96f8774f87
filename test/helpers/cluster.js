// Runs `serve --workers N` over a database as a child process, for the tests of several workers
// (one listener shared by all, brute-force counters held by the primary, metrics summed).
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');

/** Resolves once every worker listens, with the primary's start line (`listen`, `metrics`), the
 * output so far (`out`, stdout and stderr), and `stop()`, which sends SIGTERM and resolves with
 * the exit code once the output is complete. */
export async function startCluster(dbUrl, workers = 2) {
  const child = spawn(process.execPath, [BIN, 'serve', '--database', dbUrl, '--base-dn', 'dc=example,dc=com', '--listen', 'ldap://127.0.0.1:0', '--workers', String(workers), '--metrics', '127.0.0.1:0', '--log-format', 'json'], { env: { PATH: process.env.PATH } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // 'close', not 'exit': the workers' last log lines are still in the pipe when the primary exits.
  const exited = new Promise((r) => child.on('close', (code) => r(code)));
  const stop = () => {
    child.kill('SIGTERM');
    return exited;
  };
  try {
    const start = await new Promise((resolve, reject) => {
      // A deadline, generous for a loaded machine: starting N processes is what it waits for.
      const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        const line = out.split('\n').find((l) => l.includes('django-ldap-bridge started') && l.includes(`"workers":${workers}`));
        if (line) {
          clearTimeout(t);
          resolve(JSON.parse(line));
        }
      });
    });
    return { start, stop, get out() { return out; } };
  } catch (e) {
    await stop();
    throw e;
  }
}
