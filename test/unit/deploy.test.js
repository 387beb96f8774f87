// The shipped deployment files stay in step with the code: the sample config loads, and the
// systemd unit runs the command and options that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../dist/config/load.js';

const root = new URL('../..', import.meta.url).pathname;

test('deploy/bridge.yaml is a valid configuration', () => {
  const c = loadConfig({ flags: { config: `${root}deploy/bridge.yaml` }, env: {}, cwd: root });
  assert.equal(c.tree.baseDn, 'dc=example,dc=com');
  assert.deepEqual(c.listen, ['ldap://127.0.0.1:389']);
  assert.equal(c.metrics.listen, '127.0.0.1:9389');
});

test('the systemd unit is hardened and reloads with SIGHUP', () => {
  const unit = readFileSync(`${root}deploy/django-ldap-bridge.service`, 'utf8');
  for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'ExecReload=/bin/kill -HUP $MAINPID']) {
    assert.ok(unit.includes(line), line);
  }
  assert.match(unit, /ExecStart=.*django-ldap-bridge serve --config \/etc\/django-ldap-bridge\/bridge\.yaml/);
});
