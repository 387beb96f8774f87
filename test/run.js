// Runs every test file under test/ with Node's built-in runner.
// A suite whose service (PostgreSQL, the OpenLDAP clients, Django...) is missing skips itself
// with a printed reason; with DLB_REQUIRE_ALL=1 (set by .ci/run) such a skip is a failure.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      // test/django is the Django test site; test/unit/django holds unit tests.
      if ((dir === here && name === 'django') || name === 'fixtures' || name === 'helpers' || name.startsWith('.')) continue;
      out.push(...collect(p));
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
const files = only.length ? only : collect(here);
// Every test bridge's log lines and every password/hash the suites use land here, so that one
// check at the end covers the logs of all suites.
const logDir = mkdtempSync(join(tmpdir(), 'dlb-test-logs-'));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env: { ...process.env, DLB_TEST_LOG_DIR: logDir } });
let status = r.status ?? 1;
const names = readdirSync(logDir);
const secrets = new Set(names.filter((n) => n.startsWith('secrets-')).flatMap((n) => readFileSync(join(logDir, n), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))));
let lines = 0;
const leaks = [];
for (const n of names.filter((x) => x.startsWith('log-'))) {
  const text = readFileSync(join(logDir, n), 'utf8');
  lines += text.split('\n').length - 1;
  for (const s of secrets) if (text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1))) leaks.push(`${JSON.stringify(s.slice(0, 4))}... in ${n}`);
}
if (leaks.length) {
  console.log(`# log secret check FAILED: ${leaks.length} secret(s) found in test logs:\n# ${leaks.join('\n# ')}`);
  status = status || 1;
} else {
  console.log(`# log secret check: ${lines} log lines from every suite, ${secrets.size} passwords and hashes, none found`);
}
rmSync(logDir, { recursive: true, force: true });
process.exit(status);
