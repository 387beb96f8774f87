// Every log line any test bridge writes, and every password and hash the suites use, are
// recorded (when test/run.js sets DLB_TEST_LOG_DIR) so that the runner can check at the end
// that no log line of any suite holds a secret.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.DLB_TEST_LOG_DIR;
if (dir) mkdirSync(dir, { recursive: true });

export function recordLog(text) {
  if (dir) appendFileSync(join(dir, `log-${process.pid}.jsonl`), text);
}

export function recordSecrets(values) {
  if (!dir) return;
  const list = values.filter((v) => typeof v === 'string' && v.length >= 6);
  if (list.length) appendFileSync(join(dir, `secrets-${process.pid}.json`), list.map((v) => JSON.stringify(v)).join('\n') + '\n');
}

/** A Django database's secrets: every user's right and wrong passwords and stored hashes. */
export function recordDjangoSecrets(expected) {
  recordSecrets(expected.users.flatMap((u) => [u.password, u.wrongPassword, u.encoded, ...(u.extraChecks ?? []).map((x) => x.password)]));
}
