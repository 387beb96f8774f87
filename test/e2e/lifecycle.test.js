// The process as systemd runs it: SIGHUP re-reads the configuration without dropping
// connections; SIGTERM stops accepting, finishes what is in flight, and exits 0.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { client } from '../helpers/bridge.js';
import { demoDatabase, userDn, password, rawConnect, bindRequest, resultCodes } from '../helpers/demo-bridge.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'django-ldap-bridge.js');
let db;
before(async () => {
  db = await demoDatabase(600000); // slow enough to have a bind in flight
});

function serve(configFile) {
  let metricsUrl;
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { env: { PATH: process.env.PATH } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const started = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 15000);
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('django-ldap-bridge started'));
      if (line) {
        clearTimeout(t);
        const start = JSON.parse(line);
        metricsUrl = start.metrics;
        resolve(start.listen[0]);
      }
    });
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, started, exited, output: () => out, metricsUrl: () => metricsUrl };
}

const waitFor = async (pred, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
};

test('SIGHUP applies a changed configuration, keeps connections, and survives a broken file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-life-'));
  const file = join(dir, 'bridge.yaml');
  const base = `database: ${db.url}\nbaseDn: dc=example,dc=com\nlisten: [ldap://127.0.0.1:0]\nlog: { format: json }\n`;
  writeFileSync(file, base + 'anonymous: { search: false }\n');
  const s = serve(file);
  try {
    const url = await s.started;
    const held = client(url);
    await held.bind(userDn('bob'), password('bob'));
    const anon = client(url);
    await assert.rejects(anon.search('ou=users,dc=example,dc=com', { filter: '(uid=alice)', scope: 'sub' }), (e) => e.code === 50);
    writeFileSync(file, base + 'anonymous: { search: true }\n');
    s.child.kill('SIGHUP');
    assert.ok(await waitFor(() => s.output().includes('configuration reloaded')));
    const r = await anon.search('ou=users,dc=example,dc=com', { filter: '(uid=alice)', scope: 'sub' });
    assert.equal(r.entries.length, 1, 'the new setting applies on the same connection');
    const mine = await held.search('ou=users,dc=example,dc=com', { filter: '(uid=bob)', scope: 'sub' });
    assert.equal(mine.entries.length, 1, 'a connection opened before the reload still works');
    // A change that needs a restart is named; a broken file changes nothing.
    writeFileSync(file, base.replace('dc=example,dc=com', 'dc=other,dc=org') + 'anonymous: { search: true }\n');
    s.child.kill('SIGHUP');
    assert.ok(await waitFor(() => s.output().includes('need a restart')));
    assert.match(s.output(), /"settings":\["tree"\]/);
    writeFileSync(file, base + 'anonymous: { search: maybe }\n');
    s.child.kill('SIGHUP');
    assert.ok(await waitFor(() => s.output().includes('reload failed')));
    assert.match(s.output(), /anonymous\.search: must be a boolean/);
    const still = await anon.search('ou=users,dc=example,dc=com', { filter: '(uid=alice)', scope: 'sub' });
    assert.equal(still.entries.length, 1);
    held.raw.destroy();
    anon.raw.destroy();
  } finally {
    s.child.kill('SIGKILL');
  }
});

test('SIGTERM lets a bind in flight finish, then exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-life-'));
  const file = join(dir, 'bridge.yaml');
  writeFileSync(file, `database: ${db.url}\nbaseDn: dc=example,dc=com\nlisten: [ldap://127.0.0.1:0]\nlog: { format: json }\nsecurity: { credentialCacheSeconds: 0 }\nmetrics: { listen: '127.0.0.1:0' }\n`);
  const s = serve(file);
  const url = await s.started;
  const port = Number(new URL(url).port);
  const conns = await Promise.all([1, 2, 3].map(() => rawConnect(port)));
  const t = Date.now();
  conns.forEach((c, i) => c.write(bindRequest(1, userDn(['alice', 'bob', 'carol'][i]), password(['alice', 'bob', 'carol'][i]))));
  // SIGTERM once the bridge has all three binds (hashing, waiting for a hash slot, or answered),
  // not after a guessed delay: a request still in the socket buffer is not "in flight".
  const inHand = async () => {
    // Answers counted before the gauges are read: a bind is never counted twice.
    const answered = conns.filter((c) => resultCodes(c.data()).length).length;
    const text = await (await fetch(`${s.metricsUrl()}/metrics`)).text();
    const gauge = (state) => Number(new RegExp(`^django_ldap_bridge_hash_queue\\{state="${state}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return gauge('running') + gauge('waiting') + answered;
  };
  const end = Date.now() + 10_000;
  while ((await inHand()) < 3) {
    assert.ok(Date.now() < end, 'the bridge took the three binds within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  assert.equal(code, 0);
  for (const c of conns) assert.deepEqual(resultCodes(c.data()), [0], 'every bind in flight got its answer');
  assert.ok(Date.now() - t < 10000);
  // And nothing listens any more.
  await assert.rejects(rawConnect(port));
});
