// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, busy time
// only ("(idle)" is left out), so a missed target can say where the bridge's CPU went.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './datasets.mjs';

function fileOf(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return url;
  try {
    const p = url.startsWith('file://') ? fileURLToPath(url) : url;
    const r = relative(ROOT, p);
    return r.startsWith('node_modules/') ? r.split('/').slice(0, r.split('/')[1].startsWith('@') ? 3 : 2).join('/') + '/' + r.split('/').pop() : r;
  } catch {
    return url;
  }
}

/** { totalMs, busyMs, functions: [{name, file, line, ms, pct}], files: [{file, ms, pct}], groups } */
export function summarizeProfile(path, { top = 15, lastSeconds } = {}) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Only the workload: samples in the last `lastSeconds` (+0.5 s for the stop) before the end,
  // so start-up (module loading, config validation) is left out.
  const from = lastSeconds ? prof.endTime - (lastSeconds + 0.5) * 1e6 : -Infinity;
  let ts = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    ts += prof.timeDeltas[i];
    if (ts < from) continue;
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // the interval until the next sample, ms
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const fn = new Map();
  const files = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    total += ms;
    if (cf.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const file = cf.functionName.startsWith('(') ? cf.functionName : fileOf(cf.url);
    const key = `${cf.functionName || '(anonymous)'}\t${file}\t${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    files.set(file, (files.get(file) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms) => (busy > 0 ? (100 * ms) / busy : 0);
  const functions = [...fn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, ms]) => {
      const [name, file, line] = k.split('\t');
      return { name, file, line: Number(line), ms, pct: pct(ms) };
    });
  const fileList = [...files].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, ms]) => ({ file, ms, pct: pct(ms) }));
  // Coarse buckets: our code, node internals, dependencies, V8/GC.
  const groups = {};
  for (const [file, ms] of files) {
    const g = file.startsWith('dist/') ? 'bridge (dist/)' : file.startsWith('node_modules/') ? file.split('/').slice(0, file.split('/')[1].startsWith('@') ? 3 : 2).join('/') : file.startsWith('node:') ? 'node core (node:*)' : file;
    groups[g] = (groups[g] ?? 0) + ms;
  }
  const groupList = Object.entries(groups)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([group, ms]) => ({ group, ms, pct: pct(ms) }));
  return { totalMs: total, busyMs: busy, functions, files: fileList, groups: groupList };
}

export function profileMarkdown(title, s) {
  const L = [];
  L.push(`**${title}** — ${(s.busyMs / 1000).toFixed(1)} s of CPU on the bridge's main thread sampled (idle excluded).`);
  L.push('');
  L.push('| self % | function | file:line |');
  L.push('|---:|---|---|');
  for (const f of s.functions) L.push(`| ${f.pct.toFixed(1)} | \`${f.name}\` | ${f.file}:${f.line} |`);
  L.push('');
  L.push('| self % | by file |');
  L.push('|---:|---|');
  for (const f of s.files.slice(0, 10)) L.push(`| ${f.pct.toFixed(1)} | ${f.file} |`);
  L.push('');
  L.push('| self % | by package |');
  L.push('|---:|---|');
  for (const g of s.groups.slice(0, 8)) L.push(`| ${g.pct.toFixed(1)} | ${g.group} |`);
  return L.join('\n');
}
