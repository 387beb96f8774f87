// Prometheus metrics and health checks on an optional HTTP listener (`--metrics host:port`):
// /metrics, /healthz (the process answers) and /readyz (the database answers). Each bridge has
// its own registry, so several bridges in one process (tests) do not mix their numbers.
import http from 'node:http';
import client from 'prom-client';

export interface MetricsSources {
  connections(): number;
  hashQueue(): { running: number; waiting: number; computed?: number; dropped?: number };
  pool(): { total: number; idle: number; waiting: number } | undefined;
  ping(): Promise<void>;
}

/** A histogram with one label whose observations cost an array lookup and an increment: every
 * LDAP operation and database query records one, and prom-client's Histogram hashes its labels
 * and builds a closure per observation (about 8% of a warm Apache request's CPU). It renders
 * through the registry like prom-client's own (same _bucket/_sum/_count series, so the
 * cluster primary's AggregatorRegistry sums it too). */
class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { counts: Float64Array; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly bounds: number[],
  ) {}
  observe(labelValue: string, v: number): void {
    let s = this.series.get(labelValue);
    if (!s) this.series.set(labelValue, (s = { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }
  get() {
    const values: client.MetricValueWithName<string>[] = [];
    for (const [lv, s] of this.series) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: this.bounds[i], [this.label]: lv }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', [this.label]: lv }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { [this.label]: lv }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.label]: lv }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
  reset(): void {
    this.series.clear();
  }
}

/** Counts kept in a plain map and handed to prom-client's counter when it is read. */
class Tally<L extends string> {
  private readonly pending = new Map<string, { labels: Partial<Record<L, string>>; n: number }>();
  constructor(readonly counter: client.Counter<L>) {}
  add(key: string, labels: () => Partial<Record<L, string>>): void {
    const p = this.pending.get(key);
    if (p) p.n++;
    else this.pending.set(key, { labels: labels(), n: 1 });
  }
  flush(): void {
    for (const p of this.pending.values()) {
      if (p.n > 0) this.counter.inc(p.labels, p.n);
      p.n = 0;
    }
  }
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly ops: Tally<'op' | 'result'>;
  private readonly opSeconds: FastHistogram;
  private readonly binds: Tally<'outcome'>;
  private readonly cacheHits: Tally<never>;
  private readonly querySeconds: FastHistogram;
  private server: http.Server | undefined;
  private sources: MetricsSources | undefined;
  /** Replaces this registry's text for /metrics (a cluster primary sums its workers'). */
  render: (() => Promise<string>) | undefined;

  constructor() {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'django_ldap_bridge_process_' });
    const self = this;
    const tally = <L extends string>(cfg: client.CounterConfiguration<L>) => {
      let t: Tally<L> | undefined;
      const counter: client.Counter<L> = new client.Counter<L>({ ...cfg, registers, collect: () => t?.flush() });
      return (t = new Tally<L>(counter));
    };
    this.ops = tally({ name: 'django_ldap_bridge_operations_total', help: 'LDAP operations by type and result code', labelNames: ['op', 'result'] });
    this.opSeconds = new FastHistogram('django_ldap_bridge_operation_duration_seconds', 'LDAP operation latency', 'op', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    this.binds = tally({ name: 'django_ldap_bridge_binds_total', help: 'Binds by outcome (success, wrong-password, unknown-user, inactive, locked-out, unavailable, busy, dropped, ...)', labelNames: ['outcome'] });
    this.cacheHits = tally<never>({ name: 'django_ldap_bridge_credential_cache_hits_total', help: 'Binds answered from the credential cache (no hash computed)' });
    this.querySeconds = new FastHistogram('django_ldap_bridge_db_query_duration_seconds', 'Database query latency', 'ok', [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]);
    this.registry.registerMetric(this.opSeconds as unknown as client.Metric);
    this.registry.registerMetric(this.querySeconds as unknown as client.Metric);
    new client.Gauge({
      name: 'django_ldap_bridge_connections',
      help: 'Open LDAP client connections',
      registers,
      collect() {
        this.set(self.sources?.connections() ?? 0);
      },
    });
    new client.Gauge({
      name: 'django_ldap_bridge_hash_queue',
      help: 'Password hashes running and waiting',
      labelNames: ['state'],
      registers,
      collect() {
        const q = self.sources?.hashQueue();
        this.set({ state: 'running' }, q?.running ?? 0);
        this.set({ state: 'waiting' }, q?.waiting ?? 0);
      },
    });
    let hashesSeen = 0;
    new client.Counter({
      name: 'django_ldap_bridge_password_hashes_total',
      help: 'Password checks computed, real and dummy (identical binds sharing one check count once)',
      registers,
      collect() {
        const n = self.sources?.hashQueue().computed ?? 0;
        if (n > hashesSeen) this.inc(n - hashesSeen);
        hashesSeen = n;
      },
    });
    let droppedSeen = 0;
    new client.Counter({
      name: 'django_ldap_bridge_password_checks_dropped_total',
      help: 'Password checks dropped before their hash because every client waiting on them had hung up or unbound',
      registers,
      collect() {
        const n = self.sources?.hashQueue().dropped ?? 0;
        if (n > droppedSeen) this.inc(n - droppedSeen);
        droppedSeen = n;
      },
    });
    new client.Gauge({
      name: 'django_ldap_bridge_db_pool_connections',
      help: 'Database pool connections (PostgreSQL)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = self.sources?.pool();
        if (!p) return;
        this.set({ state: 'total' }, p.total);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'waiting' }, p.waiting);
      },
    });
  }

  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  op(op: string, result: number, seconds: number): void {
    this.ops.add(op + ' ' + result, () => ({ op, result: String(result) }));
    this.opSeconds.observe(op, seconds);
  }

  bind(outcome: string, cached: boolean | undefined): void {
    this.binds.add(outcome, () => ({ outcome }));
    if (cached) this.cacheHits.add('', () => ({}));
  }

  query(seconds: number, ok: boolean): void {
    this.querySeconds.observe(ok ? 'true' : 'false', seconds);
  }

  /** Starts the HTTP listener; resolves with the bound port. */
  async listen(hostPort: string): Promise<{ host: string; port: number }> {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
    if (!m) throw new Error(`metrics.listen: expected host:port, got ${hostPort}`);
    const [, host, port] = m;
    this.server = http.createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(Number(port), host, () => resolve());
    });
    return { host, port: (this.server.address() as import('node:net').AddressInfo).port };
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/metrics') {
        const body = this.render ? await this.render() : await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(body);
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else if (path === '/readyz') {
        try {
          await Promise.race([this.sources?.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('database did not answer within 2 s')), 2000))]);
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ready\n');
        } catch (e) {
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end(`database unavailable: ${(e as Error).message.split('\n')[0]}\n`);
        }
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: try /metrics, /healthz or /readyz\n');
      }
    } catch {
      res.writeHead(500);
      res.end();
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
