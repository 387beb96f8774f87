// The machine's bare PBKDF2-SHA256 rate at 1,000,000 iterations: the floor under any cold bind
// of a Django user with such a hash, whatever the server does around it.
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { availableParallelism } from 'node:os';

export async function barePbkdf2(iterations = 1_000_000, { singles = 5, perCore = 2, rounds = 3 } = {}) {
  // One core: synchronous, in this thread.
  pbkdf2Sync('warm-up', 'salt', 10_000, 32, 'sha256');
  const single = [];
  for (let i = 0; i < singles; i++) {
    const t = performance.now();
    pbkdf2Sync('bench-password', 'benchsaltbenchsalt2024', iterations, 32, 'sha256');
    single.push(performance.now() - t);
  }
  single.sort((a, b) => a - b);
  const singleMs = single[0]; // the fastest: the machine's own speed, least disturbed
  // Every core: crypto.pbkdf2 on libuv's pool (what the bridge uses), one per core at a time.
  // (The best of a few rounds: other work on the machine only ever slows a round down.)
  const cores = availableParallelism();
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: cores }, async () => {
        for (let i = 0; i < perCore; i++) await new Promise((res, rej) => pbkdf2('bench-password', 'benchsaltbenchsalt2024', iterations, 32, 'sha256', (e) => (e ? rej(e) : res())));
      }),
    );
    rates.push((cores * perCore) / ((performance.now() - t0) / 1000));
  }
  const allRate = Math.max(...rates);
  return { iterations, cores, singleMs, singles: single, perCoreRate: 1000 / singleMs, allCoresRate: allRate, allCoresRates: rates, allCoresPerCore: allRate / cores };
}
