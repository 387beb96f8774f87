// Issue #14's attacks at the scale the adversarial pass first made them (300,000 users, 100
// parallel guesses, 20 KB DNs for a minute, 3,000 silent TLS connections, 300 sprayer
// connections from 100 addresses), against the bridge with its defaults. `npm run attack` keeps
// the same attacks in the test suite at a size CI can afford; this script is the full-size
// re-run, read by a person: it prints what the attacker and a legitimate client saw.
//
//   npm run build && node scripts/attack-scale.mjs [dn|scan|parallel|tls|spray ...]
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { demoDatabase, startDemoBridge, DEMO_SERVICE, userDn, password, rawConnect, bindRequest, searchRequest, resultCodes, ber } from '../test/helpers/demo-bridge.js';

const BASE = 'dc=example,dc=com';
const { tlv, str } = ber;
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const ms = (t0) => Math.round(performance.now() - t0);

/** A legitimate Apache login: bind as the service, search the user, bind as the user. */
async function apacheLogin(port, host = '127.0.0.1') {
  const t0 = performance.now();
  const c = await rawConnect(port, host);
  try {
    c.write(bindRequest(1, DEMO_SERVICE.dn, DEMO_SERVICE.password));
    c.write(searchRequest(2, BASE, { filter: tlv(0xa3, Buffer.concat([str('uid'), str('alice')])) }));
    c.write(bindRequest(3, userDn('alice'), password('alice')));
    const codes = await c.waitResults(3, 60_000);
    return { codes: codes.join(','), ms: ms(t0) };
  } finally {
    c.end();
  }
}

async function scan() {
  // Item 3: a bound ordinary user's search that matches nothing, over 300,000 users.
  const db = await demoDatabase();
  const sql = new Database(db.path);
  const hash = sql.prepare("SELECT password FROM auth_user WHERE username = 'alice'").get().password;
  const ins = sql.prepare("INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, NULL, 0, ?, '', '', '', 0, 1, '2020-01-01 00:00:00')");
  sql.transaction(() => {
    for (let i = 0; i < Number(process.env.SCAN_USERS ?? 300_000); i++) ins.run(hash, `user${String(i).padStart(6, '0')}`);
  })();
  sql.close();
  const b = await startDemoBridge(db.url);
  try {
    const or = tlv(0xa1, Buffer.concat(Array.from({ length: 1000 }, (_, i) => tlv(0xa4, Buffer.concat([str('uid'), tlv(0x30, str(`zz${i}q`, 0x81))])))));
    const c = await rawConnect(b.port);
    c.write(bindRequest(1, userDn('alice'), password('alice')));
    await c.waitResults(1);
    const t0 = performance.now();
    c.write(searchRequest(2, BASE, { filter: or }));
    const legit = apacheLogin(b.port);
    const codes = await c.waitResults(2, 120_000);
    if (process.env.SHOW_LOGS) for (const l of b.logs) console.log(l.slice(0, 400));
    console.log(`scan: 1,000-substring OR as alice over 300,004 users: codes ${codes.join(',')} in ${ms(t0)} ms; an Apache login meanwhile: ${JSON.stringify(await legit)}`);
    c.end();
  } finally {
    await b.close();
  }
}

async function parallel() {
  // Item 4: 100 simultaneous guesses for one user from one address, the right one 80th.
  const db = await demoDatabase();
  const b = await startDemoBridge(db.url, { security: { credentialCacheSeconds: 0 } });
  try {
    const conns = await Promise.all(Array.from({ length: 100 }, () => rawConnect(b.port)));
    conns.forEach((c, i) => c.write(bindRequest(1, userDn('bob'), i === 79 ? password('bob') : `guess-${i}`)));
    const codes = await Promise.all(conns.map((c) => c.waitResults(1, 120_000)));
    const tally = {};
    for (const cs of codes) tally[cs[0]] = (tally[cs[0]] ?? 0) + 1;
    console.log(`parallel: 100 guesses at once, right one 80th: right one answered ${codes[79][0]} (0 = success, 49 = refused); all answers ${JSON.stringify(tally)}; hashes computed ${b.bridge.context.auth.gate.depth.computed}`);
    conns.forEach((c) => c.end());
  } finally {
    await b.close();
  }
}

async function dn() {
  // Item 2: anonymous searches with unique ~20 KB base DNs at ~75/s for 60 s.
  const db = await demoDatabase();
  const b = await startDemoBridge(db.url);
  try {
    const before = await apacheLogin(b.port);
    const rss0 = process.memoryUsage().rss;
    const end = Date.now() + 60_000;
    let sent = 0;
    const c = await rawConnect(b.port);
    while (Date.now() < end) {
      const base = `cn=${String(sent).padStart(8, '0')}${'x'.repeat(20_000)},${BASE}`;
      c.write(searchRequest((sent % 120) + 1, base));
      sent++;
      await new Promise((r) => setTimeout(r, 1000 / 75));
    }
    const after = await apacheLogin(b.port);
    const rss1 = process.memoryUsage().rss;
    const logBytes = b.logs.reduce((n, l) => n + l.length, 0);
    console.log(`dn: ${sent} unique 20 KB base DNs in 60 s (connection ${c.closed ? 'closed by the bridge' : 'open'}); Apache login before ${JSON.stringify(before)}, after ${JSON.stringify(after)}; RSS of the bridge's process +${Math.round((rss1 - rss0) / 1e6)} MB; log ${Math.round(logBytes / 1e3)} KB`);
    c.end();
  } finally {
    await b.close();
  }
}

async function silentTls() {
  // Item 9: 3,000 connections to ldaps:// that never send a ClientHello.
  const db = await demoDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'dlb-attack-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const b = await startDemoBridge(db.url, { listen: ['ldaps://127.0.0.1:0'], tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
  try {
    // What the bridge holds is counted on its side (ss): a flood of connects from one process
    // overflows the kernel's accept queue, and those connections look open to the client
    // although the bridge never got them.
    const held = () => Number(execFileSync('sh', ['-c', `ss -tn state established '( sport = :${b.port} )' | tail -n +2 | wc -l`]).toString().trim());
    const socks = [];
    for (let i = 0; i < 3000; i++) {
      const s = net.connect(b.port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const early = held();
    const t0 = performance.now();
    const timeout = b.bridge.context.config.limits.handshakeTimeoutSeconds * 1000;
    let now = early;
    while (now > 0 && performance.now() - t0 < timeout * 4) {
      await new Promise((r) => setTimeout(r, 500));
      now = held();
    }
    console.log(`tls: 3,000 silent connections from one address: the bridge held ${early} after 2 s (limit per address ${b.bridge.context.config.limits.maxConnectionsPerAddress}), ${now} after ${ms(t0) + 2000} ms (handshake timeout ${timeout / 1000} s)`);
    socks.forEach((s) => s.destroy());
    const ok = await new Promise((resolve) => {
      const s = tls.connect({ port: b.port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    console.log(`tls: a real client's handshake afterwards: ${ok ? 'accepted' : 'refused'}`);
  } finally {
    await b.close();
  }
}

async function spray() {
  // Item 7: 300 connections from 100 loopback addresses binding made-up names, while 9 real
  // users make their first bind.
  const db = await demoDatabase(200_000);
  const b = await startDemoBridge(db.url);
  let stop = false;
  const tally = {};
  const sprayer = async (i) => {
    const localAddress = `127.0.1.${1 + (i % 100)}`;
    while (!stop) {
      const c = await new Promise((resolve) => {
        const s = net.connect({ port: b.port, host: '127.0.0.1', localAddress }, () => resolve(s));
        s.on('error', () => resolve(null));
      });
      if (!c) continue;
      const chunks = [];
      c.on('data', (d) => chunks.push(d));
      for (let k = 0; k < 10 && !stop; k++) {
        c.write(bindRequest(k + 1, userDn(`nobody${i}-${k}-${Math.random().toString(36).slice(2, 8)}`), 'x'));
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const code of resultCodes(Buffer.concat(chunks))) tally[code] = (tally[code] ?? 0) + 1;
      c.destroy();
    }
  };
  try {
    const workers = Array.from({ length: 300 }, (_, i) => sprayer(i));
    await new Promise((r) => setTimeout(r, 5000));
    const real = [];
    for (const u of ['alice', 'bob', 'carol']) {
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        const c = await rawConnect(b.port, '127.0.0.1');
        c.write(bindRequest(1, userDn(u), password(u)));
        const codes = await c.waitResults(1, 60_000);
        real.push(`${u}:${codes[0]}/${ms(t0)}ms`);
        c.end();
      }
    }
    const svc = await apacheLogin(b.port);
    stop = true;
    await Promise.all(workers);
    console.log(`spray: 300 connections from 100 addresses of made-up names; real first binds ${real.join(' ')}; Apache login ${JSON.stringify(svc)}; sprayer answers by code ${JSON.stringify(tally)}; hashes computed ${b.bridge.context.auth.gate.depth.computed}, dropped unhashed (their client hung up) ${b.bridge.context.auth.gate.depth.dropped}`);
  } finally {
    await b.close();
  }
}

for (const [name, run] of Object.entries({ dn, scan, parallel, tls: silentTls, spray })) {
  if (!want(name)) continue;
  const t0 = performance.now();
  await run();
  console.log(`  (${name} took ${ms(t0)} ms; load average ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ')})`);
}
process.exit(0);
