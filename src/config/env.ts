// The environment layer: one DJANGO_LDAP_* variable per setting in the schema (plus
// DATABASE_URL for the database), each value typed by what the schema says the setting is.
import { configSchema, typesOf, type SchemaNode } from './schema.js';
import { formatPath, hasOwn, isPlainObject, setOwn, type Obj } from './document.js';
import type { Layer } from './merge.js';

/** Prefix of the environment variables; a setting's name is this + its path in UPPER_SNAKE. */
export const ENV_PREFIX = 'DJANGO_LDAP_';
/** Names a config file when no --config flag is given. */
export const CONFIG_ENV = 'DJANGO_LDAP_CONFIG';

function camelToUpperSnake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/** The environment variable for a setting path, e.g. ['users','caseInsensitive'] -> DJANGO_LDAP_USERS_CASE_INSENSITIVE. */
export function envVarName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(camelToUpperSnake).join('_');
}

type EnvKind = 'string' | 'boolean' | 'number' | 'nullableString' | 'list' | 'json' | 'falseOrMapping';
export interface EnvVarSpec {
  name: string;
  path: string[];
  kind: EnvKind;
  description?: string;
}

function collectEnv(node: SchemaNode, path: string[], out: EnvVarSpec[]): void {
  if (node.anyOf) {
    // false, or a mapping
    if (path.length) out.push({ name: envVarName(path), path, kind: 'falseOrMapping', description: node.description });
    for (const branch of node.anyOf) if (branch.properties) collectEnv(branch, path, out);
    return;
  }
  const types = typesOf(node);
  if (types.includes('object') && node.properties) {
    for (const [k, child] of Object.entries(node.properties)) {
      if (k === '$schema') continue;
      collectEnv(child, [...path, k], out);
    }
    return;
  }
  let kind: EnvKind;
  if (types.includes('array')) kind = node.items && typesOf(node.items).includes('object') ? 'json' : 'list';
  else if (types.includes('boolean')) kind = 'boolean';
  else if (types.includes('integer') || types.includes('number')) kind = 'number';
  else if (types.includes('null')) kind = 'nullableString';
  else kind = 'string';
  out.push({ name: envVarName(path), path, kind, description: node.description });
}

let envSpecCache: EnvVarSpec[] | undefined;

/**
 * Every DJANGO_LDAP_* variable the loader reads (besides DJANGO_LDAP_CONFIG and DATABASE_URL), one
 * per setting in the schema, named DJANGO_LDAP_ + the setting's path with each camelCase segment
 * turned UPPER_SNAKE and the segments joined by "_".
 */
export function listEnvVars(): EnvVarSpec[] {
  if (!envSpecCache) {
    const out: EnvVarSpec[] = [];
    collectEnv(configSchema(), [], out);
    const seen = new Map<string, string>();
    for (const s of out) {
      const other = seen.get(s.name);
      if (other !== undefined) throw new Error(`config schema: ${formatPath(s.path)} and ${other} both map to ${s.name}`);
      seen.set(s.name, formatPath(s.path));
    }
    envSpecCache = out;
  }
  return envSpecCache.map((s) => ({ ...s, path: [...s.path] }));
}

function parseEnvValue(spec: EnvVarSpec, raw: string, problems: string[]): unknown {
  const v = raw.trim();
  switch (spec.kind) {
    case 'boolean':
    case 'falseOrMapping':
      if (/^(true|1)$/i.test(v)) return true;
      if (/^(false|0)$/i.test(v)) return false;
      return v; // left for the schema to reject, naming the variable
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : v;
    case 'nullableString':
      return /^null$/i.test(v) ? null : v;
    case 'list':
      return v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'json':
      try {
        return JSON.parse(v);
      } catch {
        problems.push(`${spec.name}: must be a JSON list, e.g. [{"dn": "cn=apache,ou=services,dc=example,dc=com", "password": "pbkdf2_sha256$..."}]`);
        return undefined;
      }
    default:
      return v;
  }
}

/** The settings the environment gives, each labelled with the variable that gave it. */
export function envLayer(env: Record<string, string | undefined>, problems: string[]): Layer {
  const data: Obj = {};
  const labels = new Map<string, string | null>();
  const specs = listEnvVars().sort((a, b) => a.path.length - b.path.length);
  const setBy = new Map<string, string>();
  const dbVar = env.DATABASE_URL;
  for (const spec of specs) {
    let raw = env[spec.name];
    let name = spec.name;
    if ((raw === undefined || raw.trim() === '') && spec.path.length === 1 && spec.path[0] === 'database' && dbVar !== undefined) {
      raw = dbVar;
      name = 'DATABASE_URL';
    }
    if (raw === undefined || raw.trim() === '') continue;
    const value = parseEnvValue(spec, raw, problems);
    if (value === undefined) continue;
    let o = data;
    let conflict: string | undefined;
    for (let i = 0; i < spec.path.length - 1; i++) {
      const k = spec.path[i]!;
      if (!hasOwn(o, k)) setOwn(o, k, {});
      const next = o[k];
      if (!isPlainObject(next)) {
        conflict = setBy.get(formatPath(spec.path.slice(0, i + 1)));
        break;
      }
      o = next;
    }
    if (conflict !== undefined) {
      problems.push(`${name}: conflicts with ${conflict}=false (that relation is switched off)`);
      continue;
    }
    setOwn(o, spec.path[spec.path.length - 1]!, value);
    setBy.set(formatPath(spec.path), name);
    labels.set(formatPath(spec.path), name);
  }
  return { data, labels };
}
