// Scale-out on real parts: a real HAProxy (TCP mode, send-proxy-v2), configured with the text of
// docs/operations.md, in front of two bridge processes sharing Redis (its db 11, flushed by the
// test), over a real Django database. Stopping one bridge (SIGTERM) loses no connection HAProxy
// can retry, answers stay correct, a lockout through one bridge holds on both, and the logs show
// the client's own address.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Redis } from 'ioredis';
import { need, hasCommand } from '../helpers/require.js';
import { userDn, rawConnect, bindRequest, BASE } from '../helpers/demo-bridge.js';
import { makeDjangoDatabase, djangoAvailable } from '../helpers/django.js';
import { client } from '../helpers/bridge.js';

const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const cfgText = doc.split('## Two bridges behind HAProxy')[1].match(/```haproxy\n([\s\S]*?)```/)[1];

const redis = await new Promise((resolve) => {
  const r = new Redis('redis://127.0.0.1:6379/11', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.connect().then(() => resolve(r), () => resolve(null));
});
after(() => redis?.disconnect());
const dj = djangoAvailable({ engine: 'sqlite' });
const skip = need('Django', dj.ok, dj.reason) || need('haproxy', hasCommand('haproxy'), 'not installed') || need('Redis on 127.0.0.1:6379', !!redis, 'no answer');

const BIN = new URL('../../bin/django-ldap-bridge.js', import.meta.url).pathname;
/** A bridge as its own process (so the test can SIGTERM it), from a config file in a mkdtemp dir. */
async function startBridgeProcess(settings) {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-ha-bridge-'));
  const file = join(dir, 'bridge.json');
  writeFileSync(file, JSON.stringify({ baseDn: BASE, log: { level: 'info', format: 'json' }, ...settings }));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file], { env: { PATH: process.env.PATH }, cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('close', (code) => r(code)));
  const b = { get logs() { return out.split('\n'); }, stop: () => (child.kill('SIGTERM'), exited), exited };
  await until('the bridge to start', () => out.includes('django-ldap-bridge started') || child.exitCode !== null);
  if (!out.includes('django-ldap-bridge started')) throw new Error(`bridge did not start: ${out}`);
  return b;
}
const freePort = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const until = async (what, f, ms = 60_000) => {
  const end = Date.now() + ms;
  for (;;) {
    if (await f()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const bind = async (port, dn, pw) => {
  const s = await rawConnect(port);
  s.write(bindRequest(1, dn, pw));
  const codes = await s.waitResults(1, 30_000);
  const local = s.socket.localPort;
  s.end();
  return { code: codes[0], local };
};

test('HAProxy (send-proxy-v2) in front of two bridges sharing Redis', { skip }, async () => {
  await redis.flushdb();
  const db = await makeDjangoDatabase({ engine: 'sqlite' });
  // Users Django authenticates, with a plain username and an email to check answers against.
  const good = db.expected.users.filter((u) => u.checkRight && u.isActive && u.hasher !== 'unusable' && u.email && /^[a-z0-9]+$/.test(u.username));
  assert.ok(good.length >= 4, 'the Django data has users to run the load with');
  const [alice, bob, carol] = good;
  const [p1, p2, front] = [await freePort(), await freePort(), await freePort()];
  const settings = (p) => ({ database: db.url, listen: [`ldap://127.0.0.1:${p}`], proxyProtocol: [`ldap://127.0.0.1:${p}`], security: { redis: 'redis://127.0.0.1:6379/11', bruteForce: { userFailures: 3, lockoutSeconds: 60, addressFailures: 1000 } } });
  const b1 = await startBridgeProcess(settings(p1));
  let b2 = await startBridgeProcess(settings(p2));
  const dir = mkdtempSync(join(tmpdir(), 'dlb-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, cfgText.replace('127.0.0.1:389', `127.0.0.1:${front}`).replace('10.0.0.11:3389', `127.0.0.1:${p1}`).replace('10.0.0.12:3389', `127.0.0.1:${p2}`));
  const hp = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let hpOut = '';
  hp.stdout.on('data', (d) => (hpOut += d));
  hp.stderr.on('data', (d) => (hpOut += d));
  const hpExit = new Promise((r) => hp.on('close', r));
  try {
    await until('haproxy to listen', async () => (await bind(front, userDn(alice.username), alice.password).catch(() => ({}))).code === 0);
    // Both bridges answer through HAProxy (round robin), each logging the client's own port.
    const seen = [];
    await until('both bridges to answer', async () => {
      const r = await bind(front, userDn(bob.username), bob.password);
      assert.equal(r.code, 0);
      seen.push(r.local);
      return [b1, b2].every((b) => seen.some((port) => b.logs.some((l) => l.includes(`"peer":"127.0.0.1:${port}"`) && l.includes('"op":"bind"'))));
    });
    // Steady load while bridge 2 stops: a sequential loop, each round a new connection through
    // HAProxy with bind + search + compare, every answer checked against the database's users.
    // A stopped bridge refuses new connections, which HAProxy retries on the other one; only the
    // one connection open on bridge 2 at the stop may be cut (the client sees its connection end).
    let stop = false;
    const rounds = [];
    const cuts = [];
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const u = good[i % 3];
        const c = client(`ldap://127.0.0.1:${front}`);
        try {
          await c.bind(userDn(u.username), u.password);
          const r = await c.search(`ou=users,${BASE}`, { scope: 'sub', filter: `(uid=${u.username})`, attributes: ['uid', 'mail'] });
          assert.deepEqual(r.entries.map((e) => [e.dn, e.attrs.mail]), [[userDn(u.username), [u.email]]]);
          assert.equal(await c.compare(userDn(u.username), 'mail', u.email), true);
          assert.equal(await c.compare(userDn(u.username), 'mail', 'nobody@example.com'), false);
          rounds.push(u.username);
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          cuts.push(String(e?.message ?? e));
        } finally {
          c.raw.destroy();
        }
      }
    })();
    await until('some load before the stop', () => rounds.length >= 5);
    assert.equal(await b2.stop(), 0, 'bridge 2 stops cleanly on SIGTERM');
    const before = rounds.length;
    await until('load after the stop', () => rounds.length >= before + 20);
    stop = true;
    await load;
    assert.ok(cuts.length <= 1, `only the connection open at the stop may be cut: ${cuts.join('; ')}`);
    // A lockout made through the pair holds on both bridges (shared Redis).
    b2 = await startBridgeProcess(settings(p2));
    for (let i = 0; i < 3; i++) assert.equal((await bind(front, userDn(carol.username), carol.wrongPassword)).code, 49);
    assert.equal((await bind(front, userDn(carol.username), carol.password)).code, 49);
    assert.equal((await bind(front, userDn(carol.username), carol.password)).code, 49, 'locked out on the other bridge too');
  } finally {
    hp.kill('SIGTERM');
    await hpExit;
    await b1.stop();
    await b2.stop();
    await redis.flushdb();
    await db.drop();
  }
});
