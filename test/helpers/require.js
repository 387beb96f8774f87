// Gate for suites that need a real service. On a user's machine a missing service skips the
// suite with its reason; under CI (DLB_REQUIRE_ALL=1) the same absence fails the run, so CI
// never passes by skipping.
import { spawnSync } from 'node:child_process';

export const REQUIRE_ALL = process.env.DLB_REQUIRE_ALL === '1';

/** Returns undefined when available, or a skip reason string. Throws under DLB_REQUIRE_ALL. */
export function need(what, available, reason) {
  if (available) return undefined;
  const msg = `${what} unavailable: ${reason}`;
  if (REQUIRE_ALL) throw new Error(`${msg} (DLB_REQUIRE_ALL=1 turns this skip into a failure)`);
  console.log(`# SKIP ${msg}`);
  return msg;
}

export function hasCommand(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}
