// The log as an operator reads it: `serve` with its default logging (info, JSON to stdout,
// written asynchronously) and stdout sent to a file. Every bind leaves an audit line (who, from
// where, the outcome), searches do not (they are debug), and no line is lost when the bridge is
// stopped right after a burst of binds (SIGTERM, one process or a cluster) or when it crashes
// on an error Node can catch.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/serve.js';
import { recordLog } from '../helpers/secrets.js';
import { demoDatabase, rawConnect, bindRequest, searchRequest, DEMO_SERVICE, userDn, password, BASE } from '../helpers/demo-bridge.js';
import { makePassword } from '../../dist/django/hashers/index.js';

let db;
let serviceHash;
before(async () => {
  db = await demoDatabase();
  serviceHash = await makePassword(DEMO_SERVICE.password, { iterations: 1000 });
});

async function until(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `serve` with only database, listen, base DN and service account set (logging at its
 * defaults), stdout to a file. `preload`: a module run first with --import. */
async function serveToFile({ workers, preload } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-logging-'));
  const config = join(dir, 'bridge.json');
  writeFileSync(config, JSON.stringify({ database: db.url, baseDn: BASE, listen: ['ldap://127.0.0.1:0'], serviceAccounts: [{ dn: DEMO_SERVICE.dn, password: serviceHash }] }));
  const logFile = join(dir, 'bridge.log');
  const fd = openSync(logFile, 'w');
  const args = [...(preload ? ['--import', preload] : []), BIN, 'serve', '--config', config, ...(workers ? ['--workers', String(workers)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  closeSync(fd);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const read = () => readFileSync(logFile, 'utf8');
  const lines = () => read().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const start = await until(() => lines().find((l) => l.msg === 'django-ldap-bridge started'), 20_000, `the start line (stderr: ${stderr})`);
  const [, port] = /:(\d+)$/.exec(start.listen[0]);
  return { child, port: Number(port), exited, lines, read, stderr: () => stderr };
}

/** `count` binds, each on its own connection, 16 connections at a time: the service account
 * (then a search), alice, and bob with a wrong password in turn. Resolves with what each one expects to find in
 * the log: its DN, the client's address as the bridge sees it, the outcome. */
async function bindBurst(port, count) {
  const who = [
    { dn: DEMO_SERVICE.dn, pw: DEMO_SERVICE.password, code: 0, outcome: 'success' },
    { dn: userDn('alice'), pw: password('alice'), code: 0, outcome: 'success' },
    // After 5 failures bob is locked out: still 49, logged as such.
    { dn: userDn('bob'), pw: 'not-bobs-password', code: 49, outcome: ['wrong-password', 'locked-out'] },
  ];
  const expected = [];
  // Every connection stays open until the burst is over, so no two share a client port (the
  // address the log names).
  const open = [];
  for (let i = 0; i < count; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, count - i) }, async (_, k) => {
        const w = who[(i + k) % who.length];
        const c = await rawConnect(port);
        const peer = `127.0.0.1:${c.socket.localPort}`;
        c.write(bindRequest(1, w.dn, w.pw));
        assert.deepEqual(await c.waitResults(1), [w.code], `bind as ${w.dn}`);
        if (w.code === 0 && w.dn === DEMO_SERVICE.dn) {
          c.write(searchRequest(2, `ou=users,${BASE}`, { attrs: ['uid'] }));
          assert.equal((await c.waitResults(2))[1], 0, 'the search');
        }
        open.push(c);
        expected.push({ dn: w.dn, peer, outcome: w.outcome });
      }),
    );
  }
  for (const c of open) c.end();
  return expected;
}

function assertEveryBindLogged(lines, expected) {
  const binds = lines.filter((l) => l.op === 'bind');
  for (const e of expected) {
    const found = binds.filter((l) => l.peer === e.peer && l.dn === e.dn);
    assert.equal(found.length, 1, `one bind line for ${e.dn} from ${e.peer}: ${JSON.stringify(found)}`);
    assert.ok([e.outcome].flat().includes(found[0].outcome), `outcome ${found[0].outcome} for ${e.dn}`);
    assert.equal(found[0].level, e.outcome === 'success' ? 30 : 40);
  }
  assert.equal(binds.length, expected.length, 'no other bind lines');
}

describe('serve with the default logging, stdout to a file', () => {
  test('SIGTERM right after a burst of binds: every bind has its audit line; searches are not logged at info', { timeout: 120_000 }, async () => {
    const b = await serveToFile();
    const expected = await bindBurst(b.port, 300);
    b.child.kill('SIGTERM');
    assert.deepEqual(await b.exited, { code: 0, signal: null }, b.stderr());
    const lines = b.lines();
    recordLog(b.read());
    assertEveryBindLogged(lines, expected);
    assert.equal(lines.filter((l) => l.op === 'search').length, 0, 'searches are logged at debug');
    assert.equal(lines.at(-1).msg, 'django-ldap-bridge stopped', 'the stop line is the last');
  });

  test('the same with --workers 2: every worker writes all its lines before the cluster exits', { timeout: 120_000 }, async () => {
    const b = await serveToFile({ workers: 2 });
    const expected = await bindBurst(b.port, 300);
    b.child.kill('SIGTERM');
    assert.deepEqual(await b.exited, { code: 0, signal: null }, b.stderr());
    const lines = b.lines();
    recordLog(b.read());
    assertEveryBindLogged(lines, expected);
    assert.equal(lines.filter((l) => l.msg === 'django-ldap-bridge stopped').length, 3, 'both workers and the primary stopped');
  });

  for (const [kind, code, msg] of [
    ['an uncaught exception', 'throw new Error("crash injected by the test")', 'uncaught exception: stopping'],
    ['an unhandled promise rejection', 'Promise.reject(new Error("crash injected by the test"))', 'unhandled promise rejection: stopping'],
  ]) {
    test(`${kind}: its error is logged at fatal after every earlier line, and the process exits 1`, { timeout: 120_000 }, async () => {
      // The crash comes from inside the bridge's process, on a signal only the test sends.
      const dir = mkdtempSync(join(tmpdir(), 'dlb-crash-'));
      const preload = join(dir, 'crash.mjs');
      writeFileSync(preload, `process.on('SIGUSR2', () => { ${code}; });\n`);
      const b = await serveToFile({ preload });
      const expected = await bindBurst(b.port, 150);
      b.child.kill('SIGUSR2');
      assert.deepEqual(await b.exited, { code: 1, signal: null }, b.stderr());
      const lines = b.lines();
      recordLog(b.read());
      assertEveryBindLogged(lines, expected);
      const last = lines.at(-1);
      assert.deepEqual([last.level, last.msg, last.err?.message], [60, msg, 'crash injected by the test']);
      assert.match(last.err.stack, /crash\.mjs/, 'with its stack');
    });
  }
});
