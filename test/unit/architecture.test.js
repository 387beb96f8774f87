// The layering the code relies on, read from the import lines of src/ (type-only imports
// included): no module imports itself back through others, the LDAP edge reaches the
// database only through the directory's port, and the directory model imports nothing but
// itself (the stores in src/db/ implement its port, not the other way round).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function modules(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? modules(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Each module (path relative to src/) and the src modules it imports. */
const graph = new Map(
  modules(SRC).map((file) => {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => relative(SRC, resolve(dirname(file), m[1].replace(/\.js$/, '.ts'))));
    return [relative(SRC, file), deps];
  }),
);

test('the import graph is read (a sanity check of the reader itself)', () => {
  assert.ok(graph.size > 40, `${graph.size} modules`);
  assert.ok(graph.get('ldap/connection.ts').includes('ldap/dispatch.ts'));
  for (const [from, deps] of graph) for (const d of deps) assert.ok(graph.has(d), `${from} imports ${d}, which is not a module under src/`);
});

test('no import cycles under src/', () => {
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (m) => {
    state.set(m, 'open');
    stack.push(m);
    for (const d of graph.get(m)) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of graph.keys()) if (!state.has(m)) visit(m);
  assert.deepEqual(cycles, []);
});

test('nothing under src/ldap imports src/db; src/directory imports only itself', () => {
  const edges = [...graph].flatMap(([from, deps]) => deps.map((d) => `${from} -> ${d}`));
  assert.deepEqual(edges.filter((e) => /^ldap\/.* -> db\//.test(e)), []);
  assert.deepEqual(edges.filter((e) => /^directory\//.test(e) && !/ -> directory\//.test(e)), []);
});
