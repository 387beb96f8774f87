// Runs the real command line's `serve` as a child process, as an operator would.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');

/** Starts `serve`; resolves when it logged its start line, rejects with its exit code and stderr. */
export function serve(args, env = {}) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    // A deadline, not a speed check: a start on a loaded 2-core machine (a Django database, the
    // dummy hash measured) has been seen to take seconds.
    const timer = setTimeout(() => reject(new Error(`no start line within 60 s; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`)), 60_000);
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('django-ldap-bridge started'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, start: JSON.parse(line), logs: () => out });
      }
    });
    // 'close' (not 'exit'): only then is everything it printed on stderr in `err`.
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited ${code}: ${err}`), { code, stderr: err }));
    });
  });
}
