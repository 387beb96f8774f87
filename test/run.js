// Runs every test file under test/ with Node's built-in runner.
// A suite whose service (PostgreSQL, the OpenLDAP clients, Django...) is missing skips itself
// with a printed reason; with DLB_REQUIRE_ALL=1 (set by .ci/run) such a skip is a failure.
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'django' || name === 'fixtures' || name === 'helpers' || name.startsWith('.')) continue;
      out.push(...collect(p));
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
const files = only.length ? only : collect(here);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
