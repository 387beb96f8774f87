// Prometheus metrics and health checks on an optional HTTP listener (`--metrics host:port`):
// /metrics, /healthz (the process answers) and /readyz (the database answers). Each bridge has
// its own registry, so several bridges in one process (tests) do not mix their numbers.
import http from 'node:http';
import client from 'prom-client';

export interface MetricsSources {
  connections(): number;
  hashQueue(): { running: number; waiting: number };
  pool(): { total: number; idle: number; waiting: number } | undefined;
  ping(): Promise<void>;
}

export class Metrics {
  readonly registry = new client.Registry();
  private readonly ops: client.Counter<'op' | 'result'>;
  private readonly opSeconds: client.Histogram<'op'>;
  private readonly binds: client.Counter<'outcome'>;
  private readonly cacheHits: client.Counter;
  private readonly querySeconds: client.Histogram<'ok'>;
  private server: http.Server | undefined;
  private sources: MetricsSources | undefined;
  /** Replaces this registry's text for /metrics (a cluster primary sums its workers'). */
  render: (() => Promise<string>) | undefined;

  constructor() {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'django_ldap_bridge_process_' });
    this.ops = new client.Counter({ name: 'django_ldap_bridge_operations_total', help: 'LDAP operations by type and result code', labelNames: ['op', 'result'], registers });
    this.opSeconds = new client.Histogram({ name: 'django_ldap_bridge_operation_duration_seconds', help: 'LDAP operation latency', labelNames: ['op'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    this.binds = new client.Counter({ name: 'django_ldap_bridge_binds_total', help: 'Binds by outcome (success, wrong-password, unknown-user, inactive, locked-out, unavailable, busy, ...)', labelNames: ['outcome'], registers });
    this.cacheHits = new client.Counter({ name: 'django_ldap_bridge_credential_cache_hits_total', help: 'Binds answered from the credential cache (no hash computed)', registers });
    this.querySeconds = new client.Histogram({ name: 'django_ldap_bridge_db_query_duration_seconds', help: 'Database query latency', labelNames: ['ok'], buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers });
    const self = this;
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
    this.ops.inc({ op, result: String(result) });
    this.opSeconds.observe({ op }, seconds);
  }

  bind(outcome: string, cached: boolean | undefined): void {
    this.binds.inc({ outcome });
    if (cached) this.cacheHits.inc();
  }

  query(seconds: number, ok: boolean): void {
    this.querySeconds.observe({ ok: ok ? 'true' : 'false' }, seconds);
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
        res.writeHead(200, { 'content-type': this.registry.contentType });
        res.end(this.render ? await this.render() : await this.registry.metrics());
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
