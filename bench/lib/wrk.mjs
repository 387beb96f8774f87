// Runs wrk against an Apache location with a Basic auth header and parses its report.
import { spawn } from 'node:child_process';

const UNIT = { us: 0.001, ms: 1, s: 1000, m: 60000 };
const toMs = (v, u) => Number(v) * UNIT[u];

export function runWrk({ url, user, password, conc, seconds, threads = 2, timeout = '30s' }) {
  const auth = `Authorization: Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  const args = [`-t${Math.min(threads, conc)}`, `-c${conc}`, `-d${seconds}s`, '--latency', '--timeout', timeout, '-H', auth, url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const lat = (p) => {
        const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        return m ? toMs(m[1], m[2]) : NaN;
      };
      const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      resolve({ rps, p50: lat(50), p99: lat(99), requests: total, non2xx, socketErrors, failures: non2xx + socketErrors, raw: out, command: `wrk ${args.map((a) => (/\s/.test(a) ? `'${a.replace(/Basic \S+/, 'Basic <base64 user:password>')}'` : a)).join(' ')}` });
    });
  });
}
