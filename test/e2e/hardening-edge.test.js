// Issue #14, round two, at the protocol edge: each attack as a client makes it, and what the
// client sees now. Long DNs (bounded memos, short log lines, the service still answering),
// connection limits counted from accept and per PROXY client address, critical controls on
// a bind, and StartTLS in the root DSE.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoBridge, demoDatabase, rawConnect, bindRequest, searchRequest, resultCodes, ber, DEMO_SERVICE, userDn, password } from '../helpers/demo-bridge.js';
import { client, ldapsearch, ldapTool } from '../helpers/bridge.js';
import { serve } from '../helpers/serve.js';
import { makePassword } from '../../dist/django/hashers/index.js';

const { tlv, str, int } = ber;
const BASE = 'dc=example,dc=com';
const FIRST_USER = 'alice';

let db;
before(async () => {
  db = await demoDatabase();
});

/** A bind carrying one control. */
function bindWithControl(id, dn, pw, oid, critical) {
  const op = tlv(0x60, Buffer.concat([int(3), str(dn), str(pw, 0x80)]));
  const control = tlv(0x30, Buffer.concat([str(oid), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : [])]));
  return tlv(0x30, Buffer.concat([int(id), op, tlv(0xa0, control)]));
}

describe('long DNs', () => {
  let b;
  before(async () => {
    b = await startDemoBridge(db.url, { limits: { maxMessageBytes: 1_000_000 } });
  });
  after(() => b.close());

  test('hundreds of unique 20 KB base DNs leave nothing memoised, and a bind, a search and a bind still answer', async () => {
    const c = await rawConnect(b.port);
    // In rounds of 50 (fewer than maxOutstandingPerConnection; message ids of one byte).
    const rounds = 8;
    let codes = [];
    for (let r = 0; r < rounds; r++) {
      for (let i = 1; i <= 50; i++) c.write(searchRequest(i, `uid=${String(r * 50 + i).padStart(20_000, 'z')},ou=users,${BASE}`));
      codes = await c.waitResults((r + 1) * 50, 60_000);
    }
    assert.equal(codes.length, rounds * 50);
    assert.ok(codes.every((code) => code === 50 || code === 32), `codes: ${[...new Set(codes)]}`);
    c.end();
    assert.deepEqual(b.bridge.context.dit.memoised.chars < 100_000, true, `${b.bridge.context.dit.memoised.chars} characters memoised`);

    const ldap = client(b.url);
    try {
      await ldap.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
      const r = await ldap.search(`ou=users,${BASE}`, { scope: 'one', filter: `(uid=${FIRST_USER})` });
      assert.equal(r.entries.length, 1);
      await ldap.bind(userDn(FIRST_USER), password(FIRST_USER));
    } finally {
      await ldap.close();
    }
  });

  test('a 250 KB DN is answered, and its log lines are short and give its length', async () => {
    const huge = `uid=${'q'.repeat(250_000)},ou=users,${BASE}`;
    const before = b.logs.length;
    const c = await rawConnect(b.port);
    c.write(bindRequest(1, huge, 'whatever'));
    c.write(searchRequest(2, huge));
    assert.deepEqual(await c.waitResults(2), [49, 50]);
    c.end();
    const lines = b.logs.slice(before).filter((l) => l.includes('"op":"bind"') || l.includes('"op":"search"'));
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.ok(l.length < 1_000, `a log line of ${l.length} characters`);
      assert.match(l, new RegExp(`${huge.length} chars`));
    }
  });
});

describe('critical controls and the root DSE', () => {
  let b;
  before(async () => {
    b = await startDemoBridge(db.url);
  });
  after(() => b.close());

  test('a bind with an unknown critical control answers unavailableCriticalExtension (12) and binds nobody', async () => {
    const c = await rawConnect(b.port);
    c.write(bindWithControl(1, DEMO_SERVICE.dn, DEMO_SERVICE.password, '1.2.3.4.5.6.7', true));
    assert.deepEqual(await c.waitResults(1), [12]);
    c.write(searchRequest(2, `ou=users,${BASE}`));
    assert.deepEqual(await c.waitResults(2), [12, 50], 'still anonymous');
    // The same control, not critical, is ignored.
    c.write(bindWithControl(3, DEMO_SERVICE.dn, DEMO_SERVICE.password, '1.2.3.4.5.6.7', false));
    c.write(searchRequest(4, `ou=users,${BASE}`));
    const codes = await c.waitResults(4);
    assert.deepEqual([codes[2], codes[3]], [0, 0]);
    c.end();
  });

  test('ldapsearch -s base -b "" supportedExtension lists StartTLS and WhoAmI', async () => {
    const r = await ldapsearch(b.url, { bindDn: null, base: '', scope: 'base', attrs: ['supportedExtension'] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.entries[0].attrs.supportedExtension].sort(), ['1.3.6.1.4.1.1466.20037', '1.3.6.1.4.1.4203.1.11.3']);
  });
});

/** Resolves once `check()` holds (polled), or fails after `ms`. */
async function until(check, ms, what) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A self-signed certificate for 127.0.0.1, in a new directory. */
function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), 'dlb-edge-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

describe('connection limits', () => {
  test('ldaps:// sockets that never send a ClientHello count from accept: past the limit refused, the rest closed after the handshake timeout', async () => {
    const b = await startDemoBridge(db.url, { tls: selfSigned(), listen: ['ldaps://127.0.0.1:0'], limits: { maxConnectionsPerAddress: 3, handshakeTimeoutSeconds: 5 } });
    try {
      const idle = [];
      for (let i = 0; i < 3; i++) idle.push(await rawConnect(b.port));
      await until(() => b.bridge.server.connectionCount === 3, 10_000, 'three connections accepted');
      const extra = [await rawConnect(b.port), await rawConnect(b.port)];
      for (const s of extra) assert.equal(await s.waitClosed(4_000), true, 'refused at once: the address has its three');
      assert.equal(b.bridge.server.connectionCount, 3);
      assert.ok(idle.every((s) => !s.closed), 'the three are still within their handshake time');
      for (const s of idle) assert.equal(await s.waitClosed(30_000), true, 'closed after the handshake timeout');
      await until(() => b.bridge.server.connectionCount === 0, 10_000, 'their places freed');
      // A client that does handshake is served.
      const who = await ldapTool('ldapwhoami', ['-x', '-H', b.url]);
      assert.equal(who.code, 0, who.stderr);
      assert.equal(who.stdout.trim(), 'anonymous');
    } finally {
      await b.close();
    }
  });

  test('behind PROXY v1/v2 headers, one client address at its limit does not stop another', async () => {
    const first = await startDemoBridge(db.url);
    await first.close();
    // Port 0 cannot be named in proxyProtocol; take the port the first run got.
    const url = `ldap://127.0.0.1:${first.port}`;
    const b = await startDemoBridge(db.url, { listen: [url], proxyProtocol: [url], limits: { maxConnectionsPerAddress: 2 } });
    const v1 = (ip, port) => Buffer.from(`PROXY TCP4 ${ip} 127.0.0.1 ${port} 389\r\n`);
    const v2 = (ip, port) => {
      const body = Buffer.alloc(12);
      ip.split('.').forEach((x, i) => (body[i] = Number(x)));
      [127, 0, 0, 1].forEach((x, i) => (body[4 + i] = x));
      body.writeUInt16BE(port, 8);
      body.writeUInt16BE(389, 10);
      return Buffer.concat([Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 12]), body]);
    };
    const open = async (header) => {
      const s = await rawConnect(b.port);
      s.write(Buffer.concat([header, bindRequest(1, '', '')]));
      return s;
    };
    try {
      const held = [await open(v1('203.0.113.7', 50001)), await open(v2('203.0.113.7', 50002))];
      for (const s of held) assert.deepEqual(await s.waitResults(1), [0]);
      const third = await open(v1('203.0.113.7', 50003));
      assert.equal(await third.waitClosed(10_000), true);
      assert.deepEqual(resultCodes(third.data()), [51], 'a Notice of Disconnection: busy');
      // Other clients, through the same balancer address, still get in (v1 and v2).
      const others = [await open(v2('198.51.100.9', 40000)), await open(v1('192.0.2.1', 40001)), await open(v1('192.0.2.1', 40002))];
      for (const s of others) assert.deepEqual(await s.waitResults(1), [0]);
      assert.ok(held.every((s) => !s.closed));
      for (const s of [...held, ...others]) s.end();
    } finally {
      await b.close();
    }
  });
});

describe('service accounts changed by SIGHUP', () => {
  test('connections bound as a removed account, or as one whose password changed, are closed; the others keep working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlb-edge-hup-'));
    const file = join(dir, 'bridge.json');
    const svc = (cn) => `cn=${cn},ou=services,${BASE}`;
    // Each password hashed once: a new hash (a new salt) of the same password is a change too.
    const hashes = {};
    for (const pw of ['kept-pw-1', 'removed-pw-1', 'rotated-pw-1', 'rotated-pw-2']) hashes[pw] = await makePassword(pw, { iterations: 1000 });
    const write = (accounts) =>
      writeFileSync(file, JSON.stringify({ database: db.url, baseDn: BASE, listen: ['ldap://127.0.0.1:0'], log: { format: 'json' }, serviceAccounts: accounts.map(([cn, pw]) => ({ dn: svc(cn), password: hashes[pw] })) }));
    write([['kept', 'kept-pw-1'], ['removed', 'removed-pw-1'], ['rotated', 'rotated-pw-1']]);
    const { child, start, logs } = await serve(['--config', file]);
    try {
      const port = Number(new URL(start.listen[0]).port);
      const bound = {};
      for (const cn of ['kept', 'removed', 'rotated']) {
        bound[cn] = await rawConnect(port);
        bound[cn].write(bindRequest(1, svc(cn), `${cn}-pw-1`));
        bound[cn].write(searchRequest(2, `ou=users,${BASE}`));
        assert.deepEqual(await bound[cn].waitResults(2), [0, 0], `${cn} bound and searching`);
      }
      // A connection that bound as `removed` and then as a user is closed too: it keeps the trust.
      const rebound = await rawConnect(port);
      rebound.write(bindRequest(1, svc('removed'), 'removed-pw-1'));
      rebound.write(bindRequest(2, userDn(FIRST_USER), password(FIRST_USER)));
      assert.deepEqual(await rebound.waitResults(2), [0, 0]);

      write([['kept', 'kept-pw-1'], ['rotated', 'rotated-pw-2']]);
      child.kill('SIGHUP');
      await until(() => logs().includes('configuration reloaded'), 15_000, 'the reload');
      for (const c of [bound.removed, bound.rotated, rebound]) {
        assert.equal(await c.waitClosed(10_000), true);
        assert.equal(resultCodes(c.data()).at(-1), 8, 'a Notice of Disconnection: strongerAuthRequired');
      }
      bound.kept.write(searchRequest(3, `ou=users,${BASE}`));
      assert.deepEqual(await bound.kept.waitResults(3), [0, 0, 0], 'an unchanged account keeps its connection');
      assert.equal(bound.kept.closed, false);
      const again = await rawConnect(port);
      again.write(bindRequest(1, svc('rotated'), 'rotated-pw-1'));
      again.write(bindRequest(2, svc('rotated'), 'rotated-pw-2'));
      again.write(bindRequest(3, svc('removed'), 'removed-pw-1'));
      assert.deepEqual(await again.waitResults(3), [49, 0, 49]);
      for (const c of [bound.kept, again]) c.end();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
