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

// The stdout destination (asynchronous, lines kept as bytes and written in chunks of ~4 KiB):
// every line arrives whole and in order, multi-byte characters included, once the log is ended.
test('stdout lines with multi-byte characters arrive whole and in order through the asynchronous destination', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, openSync, closeSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'dlb-log-'));
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'w');
  const script = `import('${new URL('../../dist/log.js', import.meta.url).href}').then(async (m) => {
    const log = m.createLogger({ level: 'info', format: 'json' });
    for (let i = 0; i < 2000; i++) log.info({ dn: 'uid=josé.ñ' + i + '✓,ou=users' }, 'bind');
    await m.endLog(log);
  })`;
  const r = spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  assert.equal(r.status, 0, String(r.stderr));
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  rmSync(dir, { recursive: true, force: true });
  assert.equal(lines.length, 2000);
  lines.forEach((l, i) => assert.equal(l.dn, `uid=josé.ñ${i}✓,ou=users`));
});
