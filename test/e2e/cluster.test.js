// Several worker processes (serve --workers N): one listener shared by all, brute-force
// counters exact across workers, metrics summed over them, SIGTERM stops them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '../helpers/bridge.js';
import { demoDatabase, userDn, password } from '../helpers/demo-bridge.js';
import { startCluster } from '../helpers/cluster.js';

test('two workers share the port, the lockout counts across them, metrics add up, SIGTERM stops all', async () => {
  const db = await demoDatabase(2000);
  const cluster = await startCluster(db.url, 2);
  const { start } = cluster;
  let exitCode;
  try {
    const url = start.listen[0];
    const bind = async (u, pw) => {
      const c = client(url);
      try {
        await c.bind(userDn(u), pw);
        return 0;
      } catch (e) {
        return e.code;
      } finally {
        c.raw.destroy();
      }
    };
    for (let i = 0; i < 8; i++) assert.equal(await bind('alice', password('alice')), 0);
    // The workers' log lines reach us through a pipe, after their answers: wait for them.
    const workersSeen = () => new Set(cluster.out.split('\n').filter((l) => l.includes('"op":"bind"')).map((l) => JSON.parse(l).worker));
    for (const end = Date.now() + 10_000; workersSeen().size < 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 25));
    assert.equal(workersSeen().size, 2, 'connections reach both workers');
    for (let i = 0; i < 5; i++) assert.equal(await bind('bob', 'wrong'), 49);
    assert.equal(await bind('bob', password('bob')), 49, 'five failures spread over two workers lock bob out');
    // A success on either worker clears what the others counted: 4 failures, a success, then
    // 4 more failures do not lock carol out (the counters were reset, not left at 8).
    for (let i = 0; i < 4; i++) assert.equal(await bind('carol', 'wrong'), 49);
    assert.equal(await bind('carol', password('carol')), 0);
    for (let i = 0; i < 4; i++) assert.equal(await bind('carol', 'wrong'), 49);
    assert.equal(await bind('carol', password('carol')), 0, 'the success in between reset carol\'s failures on every worker');
    const metrics = await (await fetch(`${start.metrics}/metrics`)).text();
    const value = (label) => Number(metrics.split('\n').find((l) => l.startsWith(`django_ldap_bridge_binds_total{outcome="${label}"}`))?.split(' ').pop());
    assert.equal(value('success'), 10);
    assert.equal(value('wrong-password'), 13);
    assert.equal(value('locked-out'), 1);
    assert.equal((await fetch(`${start.metrics}/readyz`)).status, 200);
  } finally {
    exitCode = await cluster.stop();
  }
  assert.equal(exitCode, 0);
  assert.match(cluster.out, /"worker":1.*django-ldap-bridge stopped|django-ldap-bridge stopped/);
});
