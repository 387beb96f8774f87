// The logger's last net: a top-level password or credentials field never reaches a line, and
// the audit line's own fields pass through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../dist/log.js';

function capture(fn) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const log = createLogger({ level: 'info', format: 'json' }, out);
  fn(log);
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

test('a password or credentials field is censored; the bind audit fields are kept', () => {
  const [a, b] = capture((log) => {
    log.child({ conn: 1, peer: '127.0.0.1:4000' }).info({ op: 'bind', dn: 'uid=alice,ou=users,dc=example,dc=com', outcome: 'success', password: 'hunter22' }, 'bind');
    log.warn({ credentials: 'hunter22:123456', userId: 7 }, 'x');
  });
  assert.equal(a.password, '[redacted]');
  assert.deepEqual([a.conn, a.peer, a.op, a.dn, a.outcome, a.msg], [1, '127.0.0.1:4000', 'bind', 'uid=alice,ou=users,dc=example,dc=com', 'success', 'bind']);
  assert.equal(b.credentials, '[redacted]');
  assert.equal(b.userId, 7);
  assert.doesNotMatch(JSON.stringify([a, b]), /hunter22/);
});
