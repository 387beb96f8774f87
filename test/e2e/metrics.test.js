// Metrics and health over HTTP, as Prometheus and a load balancer see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { need } from '../helpers/require.js';
import { client } from '../helpers/bridge.js';
import { demoDatabase, startDemoBridge, userDn, password, DEMO_SERVICE } from '../helpers/demo-bridge.js';
import { djangoAvailable, postgresAvailable, makeDjangoDatabase } from '../helpers/django.js';

const metric = (text, name, labels = '') => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

test('/metrics counts operations, bind outcomes, cache hits and connections; /healthz and /readyz answer', async () => {
  const db = await demoDatabase(2000);
  const b = await startDemoBridge(db.url, { metrics: { listen: '127.0.0.1:0' } });
  try {
    assert.match(b.bridge.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const c = client(b.url);
    await c.bind(userDn('alice'), password('alice'));
    await c.bind(userDn('alice'), password('alice'));
    await c.bind(userDn('alice'), 'wrong').catch(() => {});
    await c.bind(userDn('nobody'), 'x').catch(() => {});
    await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    await c.search('ou=users,dc=example,dc=com', { filter: '(uid=alice)', scope: 'sub' });
    await c.compare('cn=secret-agents,ou=groups,dc=example,dc=com', 'member', userDn('alice'));
    const text = await (await fetch(`${b.bridge.metricsUrl}/metrics`)).text();
    assert.equal(metric(text, 'django_ldap_bridge_binds_total', 'outcome="success"'), 3);
    assert.equal(metric(text, 'django_ldap_bridge_binds_total', 'outcome="wrong-password"'), 1);
    assert.equal(metric(text, 'django_ldap_bridge_binds_total', 'outcome="unknown-user"'), 1);
    assert.equal(metric(text, 'django_ldap_bridge_credential_cache_hits_total'), 1);
    assert.equal(metric(text, 'django_ldap_bridge_operations_total', 'op="search",result="0"'), 1);
    assert.equal(metric(text, 'django_ldap_bridge_operations_total', 'op="compare",result="6"'), 1);
    assert.equal(metric(text, 'django_ldap_bridge_operations_total', 'op="bind",result="49"'), 2);
    assert.equal(metric(text, 'django_ldap_bridge_connections'), 1);
    assert.ok(metric(text, 'django_ldap_bridge_db_query_duration_seconds_count', 'ok="true"') > 0);
    assert.ok(metric(text, 'django_ldap_bridge_operation_duration_seconds_count', 'op="bind"') >= 5);
    // A well-formed histogram: cumulative buckets ending in +Inf = _count.
    const buckets = text.split('\n').filter((l) => l.startsWith('django_ldap_bridge_operation_duration_seconds_bucket{') && l.includes('op="bind"')).map((l) => Number(l.split(' ').pop()));
    assert.ok(buckets.length > 2 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]));
    assert.equal(buckets[buckets.length - 1], metric(text, 'django_ldap_bridge_operation_duration_seconds_count', 'op="bind"'));
    assert.ok(text.includes('# TYPE django_ldap_bridge_operation_duration_seconds histogram'));
    assert.ok(!text.includes(password('alice')));
    // Counts carry over between scrapes and grow with new operations.
    await c.bind(DEMO_SERVICE.dn, DEMO_SERVICE.password);
    const again = await (await fetch(`${b.bridge.metricsUrl}/metrics`)).text();
    assert.equal(metric(again, 'django_ldap_bridge_binds_total', 'outcome="success"'), 4);
    assert.equal(metric(again, 'django_ldap_bridge_operations_total', 'op="bind",result="49"'), 2);
    c.raw.destroy();
    const health = await fetch(`${b.bridge.metricsUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${b.bridge.metricsUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await fetch(`${b.bridge.metricsUrl}/nope`)).status, 404);
  } finally {
    await b.close();
  }
});

const pgAvail = await postgresAvailable();
const pgSkip = need('PostgreSQL and Django', pgAvail.ok && djangoAvailable({ engine: 'postgres' }).ok, pgAvail.reason ?? 'Django for PostgreSQL missing');

test('/readyz turns 503 while the database refuses connections, and 200 again when it is back', { skip: pgSkip }, async () => {
  const db = await makeDjangoDatabase({ engine: 'postgres' });
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: pgAvail.user, database: 'postgres' });
  await admin.connect();
  const b = await startDemoBridge(db.url, { metrics: { listen: '127.0.0.1:0' } });
  try {
    assert.equal((await fetch(`${b.bridge.metricsUrl}/readyz`)).status, 200);
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    const down = await fetch(`${b.bridge.metricsUrl}/readyz`);
    assert.equal(down.status, 503);
    assert.match(await down.text(), /database unavailable/);
    assert.equal((await fetch(`${b.bridge.metricsUrl}/healthz`)).status, 200, 'the process is still healthy');
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
    assert.equal((await fetch(`${b.bridge.metricsUrl}/readyz`)).status, 200);
  } finally {
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => {});
    await admin.end();
    await b.close();
    await db.drop();
  }
});
