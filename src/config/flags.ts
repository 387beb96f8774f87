// The command-line layer: the flags `serve` and the operator commands share, as settings
// labelled with the flag that gave them (for problems such as "... (from --listen)").
import { formatPath, isPlainObject, type Obj } from './document.js';
import type { Layer } from './merge.js';

export interface ConfigFlags {
  config?: string;
  database?: string;
  baseDn?: string;
  listen?: string[];
  logLevel?: string;
  logFormat?: string;
  /** host:port for the metrics/health HTTP listener. */
  metrics?: string;
  /** Worker processes (0: one per CPU). */
  workers?: string | number;
}

/** The settings the flags give; an absent flag (undefined, an empty --listen list) sets nothing. */
export function flagsLayer(flags: ConfigFlags): Layer {
  const data: Obj = {};
  const labels = new Map<string, string | null>();
  const put = (path: string[], value: unknown, label: string) => {
    if (value === undefined || value === null) return;
    let o = data;
    for (const k of path.slice(0, -1)) {
      if (!isPlainObject(o[k])) o[k] = {};
      o = o[k] as Obj;
    }
    o[path[path.length - 1]!] = value;
    labels.set(formatPath(path), label);
  };
  put(['database'], flags.database, '--database');
  put(['baseDn'], flags.baseDn, '--base-dn');
  let listen: unknown = flags.listen;
  if (typeof listen === 'string') listen = listen.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // An empty list is "not given" (a variadic option's default), not "listen nowhere".
  if (Array.isArray(listen) && listen.length > 0) put(['listen'], [...listen], '--listen');
  put(['log', 'level'], flags.logLevel, '--log-level');
  put(['log', 'format'], flags.logFormat, '--log-format');
  put(['metrics', 'listen'], flags.metrics, '--metrics');
  if (flags.workers !== undefined) put(['workers'], typeof flags.workers === 'string' && /^\d+$/.test(flags.workers) ? Number(flags.workers) : flags.workers, '--workers');
  return { data, labels };
}
