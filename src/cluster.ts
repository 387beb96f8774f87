// Several worker processes sharing the listeners (Node's cluster), for hosts with more than one
// core: one Node process runs LDAP on one core, and a bridge's work per operation is CPU.
//
// The primary forks the workers and keeps what must be one for all of them: the brute-force
// counters (unless Redis holds them), so a lockout counts every worker's failures, and the
// metrics listener, which sums the workers' registries.
//
// Most binds succeed for names with no failure on record, so asking the primary about each of
// them would put two IPC round trips on every bind (a lock check, then a reset). Instead the
// primary tells every worker which keys it holds anything for ("marks"); a worker asks only
// about marked keys and answers "not locked" / "nothing to reset" for the rest itself. A mark
// is sent to all workers before the failure that made it is acknowledged, so a worker sees its
// own failures at once and another worker's within one IPC hop. Signals go to the primary: SIGHUP is
// passed on (each worker re-reads its config), SIGTERM drains every worker and exits 0.
import cluster, { type Worker } from 'node:cluster';
import client from 'prom-client';
import type { Logger } from 'pino';
import type { BridgeConfig } from './config/types.js';
import { MemoryCounters, type CounterStore, type LockPolicy } from './auth/throttle.js';
import type { RunningBridge } from './bridge.js';
import { Metrics } from './metrics.js';

type CounterOp = 'fail' | 'take' | 'release' | 'lockRemaining' | 'lock' | 'reset';
type Request =
  | { t: 'bf'; id: number; op: CounterOp; key: string; arg?: number; policy?: LockPolicy }
  | { t: 'bf-marks'; id: number }
  | { t: 'metrics'; id: number }
  | { t: 'ready'; id: number };
type Reply = { t: 'reply'; id: number; value?: unknown; error?: string };
type Note = { t: 'started'; urls: string[] };
/** From the primary: keys that now have (on) or no longer have (off) counter state. */
type Marks = { t: 'bf-mark'; on: boolean; keys: string[] };

/** A worker's view of the primary's counters, over IPC, asked only about marked keys. */
export class PrimaryCounters implements CounterStore {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly marked = new Set<string>();
  /** Until the primary's list of marks has arrived every key is asked about. */
  private synced = false;
  constructor() {
    process.on('message', (m: Reply | Marks) => {
      if (m?.t === 'bf-mark') {
        for (const k of m.keys) {
          if (m.on) this.marked.add(k);
          else this.marked.delete(k);
        }
        return;
      }
      if (m?.t !== 'reply') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.value);
    });
    void this.ask<string[]>('bf-marks').then((keys) => {
      for (const k of keys) this.marked.add(k);
      this.synced = true;
    });
  }
  private ask<T>(op: CounterOp | 'bf-marks', key = '', arg?: number, policy?: LockPolicy): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      process.send!((op === 'bf-marks' ? { t: op, id } : { t: 'bf', id, op, key, arg, policy }) satisfies Request);
    });
  }
  /** Whether the primary may hold something for this key. */
  private mayHold(key: string): boolean {
    return !this.synced || this.marked.has(key);
  }
  fail(key: string, windowSeconds: number) {
    return this.ask<number>('fail', key, windowSeconds);
  }
  /** Asked of the primary every time: its MemoryCounters makes the count and the lock one step
   * for all workers. */
  take(key: string, policy: LockPolicy) {
    return this.ask<number>('take', key, undefined, policy);
  }
  release(key: string, unlock: boolean) {
    return this.mayHold(key) ? this.ask<void>('release', key, unlock ? 1 : 0) : Promise.resolve();
  }
  lockRemaining(key: string) {
    return this.mayHold(key) ? this.ask<number>('lockRemaining', key) : Promise.resolve(0);
  }
  lock(key: string, ms: number) {
    return this.ask<void>('lock', key, ms);
  }
  reset(key: string) {
    return this.mayHold(key) ? this.ask<void>('reset', key) : Promise.resolve();
  }
  async close() {}
}

/** In a worker: answer the primary's questions about this worker's bridge. */
export function serveWorker(bridge: RunningBridge): void {
  process.on('message', async (m: Request) => {
    if (m?.t === 'metrics') {
      process.send!({ t: 'reply', id: m.id, value: await bridge.metrics.registry.getMetricsAsJSON() } satisfies Reply);
    } else if (m?.t === 'ready') {
      try {
        await bridge.store.ping();
        process.send!({ t: 'reply', id: m.id, value: true } satisfies Reply);
      } catch (e) {
        process.send!({ t: 'reply', id: m.id, error: (e as Error).message } satisfies Reply);
      }
    }
  });
  process.send!({ t: 'started', urls: bridge.urls } satisfies Note);
}

/** In the primary: fork, relay, supervise. Resolves when the workers listen. */
export async function runPrimary(config: BridgeConfig, log: Logger, endLog: () => Promise<void> = async () => {}): Promise<void> {
  const counters = new MemoryCounters();
  const workers = new Set<Worker>();
  /** Keys the workers have been told the primary holds state for. */
  const marked = new Set<string>();
  const broadcast = (on: boolean, keys: string[]) => {
    for (const w of workers) if (w.isConnected()) w.send({ t: 'bf-mark', on, keys } satisfies Marks);
  };
  const remark = (key: string) => {
    const holds = counters.holds(key);
    if (holds === marked.has(key)) return;
    if (holds) marked.add(key);
    else marked.delete(key);
    broadcast(holds, [key]);
  };
  // Expired counters are forgotten now and then, and their marks with them, so a spray of
  // random names does not leave every worker asking about them (or holding them) for ever.
  setInterval(() => {
    counters.sweep();
    const gone = [...marked].filter((k) => !counters.holds(k));
    for (const k of gone) marked.delete(k);
    if (gone.length) broadcast(false, gone);
  }, 30_000).unref();
  let stopping = false;
  let nextQ = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const askWorker = (w: Worker, q: { t: 'metrics' } | { t: 'ready' }, ms = 2000) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextQ++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('a worker did not answer'));
      }, ms);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      w.send({ ...q, id });
    });

  let startedUrls: string[] | undefined;
  let onAllStarted: () => void = () => {};
  const allStarted = new Promise<void>((r) => (onAllStarted = r));
  let started = 0;

  const fork = () => {
    const w = cluster.fork();
    workers.add(w);
    w.on('message', async (m: Request | Reply | Note) => {
      if (m.t === 'bf') {
        try {
          const s = counters;
          const value =
            m.op === 'fail' ? await s.fail(m.key, m.arg!)
            : m.op === 'take' ? await s.take(m.key, m.policy!)
            : m.op === 'release' ? await s.release(m.key, m.arg === 1)
            : m.op === 'lockRemaining' ? await s.lockRemaining(m.key)
            : m.op === 'lock' ? await s.lock(m.key, m.arg!)
            : await s.reset(m.key);
          remark(m.key); // before the reply: the asking worker sees its own failure's mark first
          w.send({ t: 'reply', id: m.id, value } satisfies Reply);
        } catch (e) {
          w.send({ t: 'reply', id: m.id, error: (e as Error).message } satisfies Reply);
        }
      } else if (m.t === 'bf-marks') {
        w.send({ t: 'reply', id: m.id, value: [...marked] } satisfies Reply);
      } else if (m.t === 'reply') {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.error) p.reject(new Error(m.error));
        else p.resolve(m.value);
      } else if (m.t === 'started') {
        startedUrls = m.urls;
        if (++started === config.workers) onAllStarted();
      }
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      if (stopping) return;
      log.error({ worker: w.id, code, signal }, 'worker exited; starting another');
      setTimeout(fork, 1000).unref();
    });
  };

  for (let i = 0; i < config.workers; i++) fork();
  const firstExit = new Promise<never>((_, reject) => cluster.once('exit', (w, code) => !startedUrls && reject(new Error(`a worker exited with code ${code} before listening`))));
  await Promise.race([allStarted, firstExit]);

  // The metrics listener sums every worker's registry.
  let metricsUrl: string | undefined;
  let metrics: Metrics | undefined;
  if (config.metrics.listen) {
    metrics = new Metrics();
    metrics.attach({
      connections: () => 0,
      hashQueue: () => ({ running: 0, waiting: 0 }),
      pool: () => undefined,
      ping: async () => {
        await Promise.all([...workers].map((w) => askWorker(w, { t: 'ready' })));
      },
    });
    metrics.render = async () => {
      const parts = (await Promise.all([...workers].map((w) => askWorker(w, { t: 'metrics' })))) as client.MetricObjectWithValues<client.MetricValue<string>>[][];
      return client.AggregatorRegistry.aggregate(parts).metrics();
    };
    const m = await metrics.listen(config.metrics.listen);
    metricsUrl = `http://${m.host}:${m.port}`;
  }
  log.info({ listen: startedUrls, metrics: metricsUrl, workers: config.workers }, 'django-ldap-bridge started');
  log.flush();

  process.on('SIGHUP', () => {
    for (const w of workers) w.process.kill('SIGHUP');
  });
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const exits = [...workers].map((w) => new Promise((r) => w.once('exit', r)));
    for (const w of workers) w.process.kill('SIGTERM');
    await Promise.all(exits);
    await metrics?.close();
    log.info('django-ldap-bridge stopped');
    await endLog();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
