// Configuration loading: CLI flags > config file (YAML/JSON) > environment > defaults, validated
// against schemas/config.schema.json (the file's shape) and resolved to a BridgeConfig.
//
// The schema is read at runtime (../../schemas from dist/config) and drives three things:
// validation, the environment variable names (DJANGO_LDAP_<PATH>) and how their values are typed.
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import type { BridgeConfig, DjangoMapping } from './types.js';
import { ConfigError, parseDatabaseUrl } from './database-url.js';

export { ConfigError };

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

/** Prefix of the environment variables; a setting's name is this + its path in UPPER_SNAKE. */
export const ENV_PREFIX = 'DJANGO_LDAP_';
/** Names a config file when no --config flag is given. */
export const CONFIG_ENV = 'DJANGO_LDAP_CONFIG';

export const DEFAULT_LISTEN: readonly string[] = Object.freeze(['ldap://127.0.0.1:3389']);

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Django's default auth schema (django.contrib.auth with its own User model). Frozen. */
export const DEFAULT_DJANGO_MAPPING: DjangoMapping = deepFreeze({
  users: {
    table: 'auth_user',
    id: 'id',
    username: 'username',
    password: 'password',
    isActive: 'is_active',
    isStaff: 'is_staff',
    isSuperuser: 'is_superuser',
    firstName: 'first_name',
    lastName: 'last_name',
    email: 'email',
    dateJoined: 'date_joined',
    lastLogin: 'last_login',
  },
  userGroups: { table: 'auth_user_groups', userColumn: 'user_id', otherColumn: 'group_id' },
  userPermissions: { table: 'auth_user_user_permissions', userColumn: 'user_id', otherColumn: 'permission_id' },
  groups: {
    table: 'auth_group',
    id: 'id',
    name: 'name',
    permissions: { table: 'auth_group_permissions', groupColumn: 'group_id', permissionColumn: 'permission_id' },
  },
  permissions: {
    table: 'auth_permission',
    id: 'id',
    codename: 'codename',
    name: 'name',
    contentType: 'content_type_id',
    contentTypeTable: 'django_content_type',
    contentTypeId: 'id',
    appLabel: 'app_label',
  },
});

// ---------------------------------------------------------------------------------------------
// Schema

type Obj = Record<string, unknown>;
type Seg = string | number;
interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
  description?: string;
}

/** Where the schema lives: <package>/schemas/config.schema.json (this file is <package>/dist/config/load.js). */
export const CONFIG_SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

let schemaCache: SchemaNode | undefined;
let validatorCache: ValidateFunction | undefined;

/** The config file's JSON Schema (parsed once). */
export function configSchema(): SchemaNode {
  schemaCache ??= JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as SchemaNode;
  return schemaCache;
}

function validator(): ValidateFunction {
  if (!validatorCache) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    validatorCache = ajv.compile(configSchema());
  }
  return validatorCache;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isPlainObject(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v)) setOwn(out, k, clone(v[k]));
    return out as T;
  }
  return v;
}

/** Dotted path: users.columns.email, listen[0], serviceAccounts[1].password. */
export function formatPath(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

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

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function suggest(key: string, candidates: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const exact = candidates.find((c) => norm(c) === norm(key));
  if (exact) return exact;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(norm(key), norm(c));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= (key.length > 6 ? 2 : 1) ? best : undefined;
}

// ---------------------------------------------------------------------------------------------
// Environment variables, derived from the schema

type EnvKind = 'string' | 'boolean' | 'number' | 'nullableString' | 'list' | 'json' | 'falseOrMapping';
export interface EnvVarSpec {
  name: string;
  path: string[];
  kind: EnvKind;
  description?: string;
}

function typesOf(node: SchemaNode): string[] {
  if (node.type !== undefined) return Array.isArray(node.type) ? node.type : [node.type];
  if (node.enum) return [...new Set(node.enum.map((v) => (v === null ? 'null' : typeof v)))];
  return [];
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

interface Layer {
  data: Obj;
  /** Source label per dotted path (null: the config file, which needs no label). */
  labels: Map<string, string | null>;
}

function envLayer(env: Record<string, string | undefined>, problems: string[]): Layer {
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

function flagsLayer(flags: ConfigFlags): Layer {
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

// ---------------------------------------------------------------------------------------------
// The config file

function fileProblem(shown: string, what: string): ConfigError {
  return new ConfigError([`config file ${shown}: ${what}`]);
}

/** A strict JSON parser that reports the first error's offset (never the text) and duplicate keys. */
function parseJsonStrict(text: string): { value?: unknown; error?: { offset: number; message: string } } {
  let i = 0;
  class JsonFail {
    constructor(public offset: number, public message: string) {}
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const str = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) {
      throw new JsonFail(i, text.indexOf('"', i + 1) < 0 ? 'unterminated string' : 'invalid string (bad escape or control character)');
    }
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): unknown => {
    ws();
    if (i >= text.length) throw new JsonFail(i, 'unexpected end of file');
    const c = text[i]!;
    if (c === '{') {
      i++;
      const out: Obj = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonFail(i, i >= text.length ? 'unexpected end of file' : 'expected a "quoted" key');
        const keyAt = i;
        const k = str();
        if (hasOwn(out, k)) throw new JsonFail(keyAt, `duplicate key ${JSON.stringify(k)}`);
        ws();
        if (text[i] !== ':') throw new JsonFail(i, 'expected ":"');
        i++;
        setOwn(out, k, value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        throw new JsonFail(i, i >= text.length ? 'unexpected end of file' : 'expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        throw new JsonFail(i, i >= text.length ? 'unexpected end of file' : 'expected "," or "]"');
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    throw new JsonFail(i, 'unexpected character');
  };
  try {
    const v = value();
    ws();
    if (i < text.length) throw new JsonFail(i, 'unexpected text after the end of the JSON value');
    return { value: v };
  } catch (e) {
    if (e instanceof JsonFail) return { error: { offset: e.offset, message: e.message } };
    throw e;
  }
}

function readConfigFile(given: string, cwd: string): Obj {
  const path = resolve(cwd, given);
  const shown = given;
  const ext = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw fileProblem(shown, `unsupported file type "${ext || '(none)'}" (expected .yaml, .yml or .json)`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `not found (${path})`
      : code === 'EACCES' || code === 'EPERM' ? `cannot be read: permission denied (${path})`
      : code === 'EISDIR' ? `is a directory (${path})`
      : `cannot be read: ${code ?? 'error'} (${path})`;
    throw fileProblem(shown, why);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: unknown;
  if (ext === '.json') {
    const r = parseJsonStrict(text);
    if (r.error) {
      const { line, col } = lineCol(text, r.error.offset);
      throw fileProblem(shown, `invalid JSON at line ${line}, column ${col}: ${r.error.message}`);
    }
    data = r.value;
  } else {
    // prettyErrors is off: its messages quote the source, which may hold a password.
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length) {
      throw new ConfigError(
        doc.errors.map((err) => {
          const { line, col } = lineCol(text, err.pos[0]);
          return `config file ${shown}: YAML error at line ${line}, column ${col}: ${err.message.split('\n')[0]}`;
        }),
      );
    }
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw fileProblem(shown, `YAML error: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (data === null || data === undefined) return {}; // an empty file
  if (!isPlainObject(data)) throw fileProblem(shown, 'must hold a mapping of settings at the top level');
  return data;
}

// ---------------------------------------------------------------------------------------------
// Merging

function pathKey(segs: readonly Seg[]): string {
  return formatPath(segs);
}

function clearBelow(labels: Map<string, string | null>, key: string): void {
  for (const k of [...labels.keys()]) if (k.startsWith(`${key}.`) || k.startsWith(`${key}[`)) labels.delete(k);
}

/** Merges `overlay` over `base` in place: mappings merge key by key; anything else (lists too) replaces. */
function mergeLayer(base: Obj, overlay: Obj, layerLabels: Map<string, string | null>, labels: Map<string, string | null>, path: string[] = []): void {
  for (const k of Object.keys(overlay)) {
    const v = overlay[k];
    if (v === undefined) continue;
    const p = [...path, k];
    const key = pathKey(p);
    const label = layerLabels.has(key) ? layerLabels.get(key)! : null;
    const cur = hasOwn(base, k) ? base[k] : undefined;
    if (isPlainObject(v)) {
      if (!isPlainObject(cur)) {
        setOwn(base, k, {});
        clearBelow(labels, key);
        labels.set(key, label);
      }
      mergeLayer(base[k] as Obj, v, layerLabels, labels, p);
    } else {
      setOwn(base, k, clone(v));
      clearBelow(labels, key);
      labels.set(key, label);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Validation messages

const IDENT_PATTERN = '^[A-Za-z_][A-Za-z0-9_$]*$';
const OU_PATTERN = '^[^,=+<>#;\\\\"]+$';
const HASH_ALGORITHMS = ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt', 'scrypt', 'sha1', 'md5', 'unsalted_md5', 'unsalted_sha1', 'crypt'];
/** Settings whose values are never repeated in a message. */
const SECRET_PATHS = [/^database$/, /^serviceAccounts(\[\d+\])?(\.password)?$/];

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

function describeTypes(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_WORDS[String(x)] ?? String(x)).join(' or ');
}

function shownValue(path: string, v: unknown): string {
  if (SECRET_PATHS.some((re) => re.test(path))) return '';
  if (typeof v === 'string' && v.length <= 80) return ` (got ${JSON.stringify(v)})`;
  if (typeof v === 'number' || typeof v === 'boolean') return ` (got ${v})`;
  return '';
}

/** The problem with a service account's password, without repeating it. */
export function servicePasswordProblem(value: string): string | undefined {
  const re = new RegExp(`^(?:${HASH_ALGORITHMS.join('|')})\\$\\S+$`);
  if (re.test(value)) return undefined;
  if (value.startsWith('!')) return 'is an unusable Django password (it starts with "!"): no one could bind with it; give a Django password hash (algorithm$...)';
  if (!value.includes('$')) return 'must be a Django password hash (algorithm$...), not plaintext';
  if (!HASH_ALGORITHMS.some((a) => value.startsWith(`${a}$`))) {
    return `must be a Django password hash (algorithm$...), not plaintext: it does not start with a known Django algorithm (${HASH_ALGORITHMS.join(', ')})`;
  }
  return 'must be a complete Django password hash (algorithm$...), without spaces';
}

function dataAt(root: unknown, instancePath: string): { segs: Seg[]; value: unknown } {
  const segs: Seg[] = [];
  let cur: unknown = root;
  if (instancePath === '') return { segs, value: root };
  for (const raw of instancePath.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      segs.push(Number(k));
      cur = cur[Number(k)];
    } else {
      segs.push(k);
      cur = isPlainObject(cur) && hasOwn(cur, k) ? cur[k] : undefined;
    }
  }
  return { segs, value: cur };
}

interface Problem {
  path: string;
  message: string;
}

function schemaProblems(data: Obj, errors: ErrorObject[]): Problem[] {
  // anyOf (false, or a mapping): keep only the errors of the branch whose type the value has;
  // if it has neither type, say so once.
  const chosen = new Map<string, number>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branches = e.schema as SchemaNode[];
    const { value } = dataAt(data, e.instancePath);
    const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    // A const branch (false) is never "the one meant": the value has its type but not its value.
    const idx = branches.findIndex((b) => b.const === undefined && typesOf(b).includes(kind));
    chosen.set(e.schemaPath, idx);
  }
  const dropped = (e: ErrorObject): boolean => {
    for (const [sp, idx] of chosen) {
      if (e.schemaPath.startsWith(`${sp}/`)) {
        const branch = Number(e.schemaPath.slice(sp.length + 1).split('/')[0]);
        if (branch !== idx) return true;
      }
    }
    return false;
  };

  const out: Problem[] = [];
  for (const e of errors) {
    if (dropped(e)) continue;
    const { segs, value } = dataAt(data, e.instancePath);
    const path = formatPath(segs);
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'anyOf': {
        if (chosen.get(e.schemaPath) !== -1) break;
        const branches = e.schema as SchemaNode[];
        const words = branches.map((b) => (b.const !== undefined ? JSON.stringify(b.const) : describeTypes(b.type)));
        out.push({ path, message: `must be ${words.join(' or ')}` });
        break;
      }
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const known = Object.keys((e.parentSchema as SchemaNode).properties ?? {}).filter((k) => k !== '$schema');
        const hint = suggest(key, known);
        out.push({ path: formatPath([...segs, key]), message: `unknown setting${hint ? ` (did you mean "${hint}"?)` : ''}` });
        break;
      }
      case 'required':
        out.push({ path: formatPath([...segs, String(p.missingProperty)]), message: 'required' });
        break;
      case 'type': {
        const want = describeTypes(p.type);
        if (value === null && /^users\.columns\.(password|isActive|id)$/.test(path)) {
          out.push({ path, message: `may not be null: the bridge needs this column (must be ${want})` });
        } else {
          out.push({ path, message: `must be ${want}${value === null ? ' (it is empty)' : ''}` });
        }
        break;
      }
      case 'pattern': {
        const pattern = String(p.pattern);
        if (pattern === IDENT_PATTERN) {
          out.push({ path, message: `must be a plain SQL identifier (letters, digits, _ and $, not starting with a digit)${shownValue(path, value)}` });
        } else if (pattern === OU_PATTERN) {
          out.push({ path, message: `must be a plain OU name (the value of ou=...), without , = + < > # ; \\ or "${shownValue(path, value)}` });
        } else if (/^serviceAccounts\[\d+\]\.password$/.test(path) && typeof value === 'string') {
          out.push({ path, message: servicePasswordProblem(value) ?? 'must be a Django password hash (algorithm$...)' });
        } else {
          out.push({ path, message: `must match ${JSON.stringify(pattern)}${shownValue(path, value)}` });
        }
        break;
      }
      case 'enum':
        out.push({ path, message: `must be one of ${(p.allowedValues as unknown[]).join(', ')}${shownValue(path, value)}` });
        break;
      case 'const':
        out.push({ path, message: `must be ${JSON.stringify(p.allowedValue)}` });
        break;
      case 'minLength':
        out.push({ path, message: 'must not be empty' });
        break;
      case 'minItems':
        out.push({ path, message: `must list at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}` });
        break;
      case 'uniqueItems':
        out.push({ path, message: `lists the same entry twice (entries ${Math.min(Number(p.i), Number(p.j))} and ${Math.max(Number(p.i), Number(p.j))})` });
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        out.push({ path, message: `must be ${String(p.comparison)} ${String(p.limit)}${shownValue(path, value)}` });
        break;
      default:
        out.push({ path, message: e.message ?? e.keyword });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks (on values the schema accepted)

/** A syntactically plausible DN: attr=value pairs (multi-valued with +) separated by commas. */
export function dnProblem(dn: string): string | undefined {
  const example = 'expected attribute=value pairs separated by commas, e.g. dc=example,dc=com';
  if (dn.trim() === '') return 'must not be empty';
  // Split into attribute=value pairs at unescaped, unquoted "," (RDNs) and "+" (multi-valued RDNs).
  const avas: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\') {
      if (i + 1 >= dn.length) return `${JSON.stringify(dn)} is not a valid DN (it ends with a lone "\\")`;
      cur += c + dn[i + 1];
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if ((c === ',' || c === '+') && !quoted) {
      avas.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return `${JSON.stringify(dn)} is not a valid DN (unterminated quote)`;
  avas.push(cur);
  for (const ava of avas) {
    const eq = ava.indexOf('=');
    const attr = (eq >= 0 ? ava.slice(0, eq) : '').trim();
    const value = eq >= 0 ? ava.slice(eq + 1).trim() : '';
    // attribute: a name or an OID (optionally "OID."-prefixed); value: not empty
    if (eq < 0 || !/^((oid\.)?\d+(\.\d+)+|[A-Za-z][A-Za-z0-9-]*)$/i.test(attr) || value === '') {
      return `${JSON.stringify(dn)} is not a valid DN (${example})`;
    }
  }
  return undefined;
}

function listenProblem(url: string, hasTls: boolean): string | undefined {
  if (/^ldaps:\/\//i.test(url) && !hasTls) {
    return `ldaps:// needs tls.cert and tls.key (PEM files); or listen on ldap://host:port (got ${JSON.stringify(url)})`;
  }
  const m = /^ldaps?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})\/?$/i.exec(url);
  if (!m || Number(m[2]) > 65535) {
    return `must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got ${JSON.stringify(url)})`;
  }
  return undefined;
}

function get(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) cur = isPlainObject(cur) && hasOwn(cur, k) ? cur[k] : undefined;
  return cur;
}

function semanticProblems(merged: Obj, cwd: string, bad: (path: string) => boolean): Problem[] {
  const out: Problem[] = [];
  const db = merged.database;
  if (typeof db === 'string' && db !== '' && !bad('database')) {
    try {
      parseDatabaseUrl(db, cwd);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const line of e.problems) out.push({ path: 'database', message: line.replace(/^database: /, '') });
    }
  }
  const baseDn = merged.baseDn;
  if (typeof baseDn === 'string' && !bad('baseDn')) {
    const why = dnProblem(baseDn);
    if (why) out.push({ path: 'baseDn', message: why });
  }
  if (Array.isArray(merged.listen)) {
    merged.listen.forEach((u, i) => {
      const path = formatPath(['listen', i]);
      if (typeof u !== 'string' || bad(path)) return;
      const why = listenProblem(u, !!get(merged, 'tls', 'cert'));
      if (why) out.push({ path, message: why });
    });
  }
  if (Array.isArray(merged.proxyProtocol)) {
    const listening = Array.isArray(merged.listen) ? merged.listen : [...DEFAULT_LISTEN];
    merged.proxyProtocol.forEach((u, i) => {
      if (typeof u === 'string' && !listening.includes(u)) out.push({ path: formatPath(['proxyProtocol', i]), message: `${JSON.stringify(u)} is not one of the listen URLs` });
      else if (typeof u === 'string' && /^ldaps:/i.test(u)) out.push({ path: formatPath(['proxyProtocol', i]), message: 'the PROXY protocol is supported on ldap:// listeners (use StartTLS behind the balancer)' });
    });
  }
  if (Array.isArray(merged.serviceAccounts)) {
    const seen = new Map<string, number>();
    merged.serviceAccounts.forEach((sa, i) => {
      const dn = get(sa, 'dn');
      const path = formatPath(['serviceAccounts', i, 'dn']);
      if (typeof dn !== 'string' || bad(path)) return;
      const why = dnProblem(dn);
      if (why) out.push({ path, message: why });
      const norm = dn.toLowerCase().replace(/\s*([,=+])\s*/g, '$1').trim();
      const prev = seen.get(norm);
      if (prev !== undefined) out.push({ path, message: `the same DN as serviceAccounts[${prev}].dn` });
      else seen.set(norm, i);
    });
  }
  const tree = merged.tree;
  const ous: [string, string][] = (['users', 'groups', 'permissions', 'roles', 'services'] as const).map((k) => {
    const v = get(tree, k);
    return [k, typeof v === 'string' ? v : k];
  });
  for (let i = 0; i < ous.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ous[i]![1].trim().toLowerCase() === ous[j]![1].trim().toLowerCase()) {
        out.push({ path: `tree.${ous[i]![0]}`, message: `"${ous[i]![1]}" is also tree.${ous[j]![0]}; each OU must be different` });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resolution

function str(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v : dflt;
}

function col(v: unknown, dflt: string | null): string | null {
  return v === null ? null : typeof v === 'string' ? v : dflt;
}

/** The sqlite URL with a path resolved against cwd, so every consumer opens the same file. */
function normaliseDatabaseUrl(url: string, cwd: string): string {
  const target = parseDatabaseUrl(url, cwd);
  if (target.kind !== 'sqlite') return url.trim();
  return `sqlite://${target.path.replace(/%/g, '%25').replace(/\?/g, '%3F').replace(/#/g, '%23')}`;
}

function resolveConfig(m: Obj, cwd: string): BridgeConfig {
  const D = DEFAULT_DJANGO_MAPPING;
  const u = get(m, 'users');
  const c = get(u, 'columns');
  const usersTable = str(get(u, 'table'), D.users.table);

  const permissionsCfg = get(m, 'permissions');
  const permissions: DjangoMapping['permissions'] =
    permissionsCfg === false
      ? null
      : {
          table: str(get(permissionsCfg, 'table'), D.permissions!.table),
          id: str(get(permissionsCfg, 'id'), D.permissions!.id),
          codename: str(get(permissionsCfg, 'codename'), D.permissions!.codename),
          name: str(get(permissionsCfg, 'name'), D.permissions!.name),
          contentType: str(get(permissionsCfg, 'contentType'), D.permissions!.contentType),
          contentTypeTable: str(get(permissionsCfg, 'contentTypeTable'), D.permissions!.contentTypeTable),
          contentTypeId: str(get(permissionsCfg, 'contentTypeId'), D.permissions!.contentTypeId),
          appLabel: str(get(permissionsCfg, 'appLabel'), D.permissions!.appLabel),
        };

  const groupsCfg = get(m, 'groups');
  const gp = get(groupsCfg, 'permissions');
  const groups: DjangoMapping['groups'] =
    groupsCfg === false
      ? null
      : {
          table: str(get(groupsCfg, 'table'), D.groups!.table),
          id: str(get(groupsCfg, 'id'), D.groups!.id),
          name: str(get(groupsCfg, 'name'), D.groups!.name),
          permissions:
            gp === false || permissions === null
              ? null
              : {
                  table: str(get(gp, 'table'), D.groups!.permissions!.table),
                  groupColumn: str(get(gp, 'groupColumn'), D.groups!.permissions!.groupColumn),
                  permissionColumn: str(get(gp, 'permissionColumn'), D.groups!.permissions!.permissionColumn),
                },
        };

  // Django names an auto-created M2M table <model's table>_<field>: the defaults follow users.table.
  const ug = get(u, 'groups');
  const userGroups: DjangoMapping['userGroups'] =
    ug === false || groups === null
      ? null
      : {
          table: str(get(ug, 'table'), `${usersTable}_groups`),
          userColumn: str(get(ug, 'userColumn'), D.userGroups!.userColumn),
          otherColumn: str(get(ug, 'groupColumn'), D.userGroups!.otherColumn),
        };
  const up = get(u, 'permissions');
  const userPermissions: DjangoMapping['userPermissions'] =
    up === false || permissions === null
      ? null
      : {
          table: str(get(up, 'table'), `${usersTable}_user_permissions`),
          userColumn: str(get(up, 'userColumn'), D.userPermissions!.userColumn),
          otherColumn: str(get(up, 'permissionColumn'), D.userPermissions!.otherColumn),
        };

  const tree = get(m, 'tree');
  const sas = get(m, 'serviceAccounts');
  const listen = get(m, 'listen');
  return {
    database: normaliseDatabaseUrl(m.database as string, cwd),
    listen: Array.isArray(listen) ? listen.map(String) : [...DEFAULT_LISTEN],
    proxyProtocol: Array.isArray(get(m, 'proxyProtocol')) ? (get(m, 'proxyProtocol') as unknown[]).map(String) : [],
    tree: {
      baseDn: (m.baseDn as string).trim(),
      usersOu: str(get(tree, 'users'), 'users'),
      groupsOu: str(get(tree, 'groups'), 'groups'),
      permissionsOu: str(get(tree, 'permissions'), 'permissions'),
      rolesOu: str(get(tree, 'roles'), 'roles'),
      servicesOu: str(get(tree, 'services'), 'services'),
    },
    serviceAccounts: Array.isArray(sas) ? sas.map((s) => ({ dn: String(get(s, 'dn')).trim(), password: String(get(s, 'password')) })) : [],
    anonymous: { search: get(m, 'anonymous', 'search') === true },
    caseInsensitiveUsernames: get(u, 'caseInsensitive') === true,
    showInactiveUsers: get(u, 'showInactive') === true,
    django: {
      users: {
        table: usersTable,
        id: str(get(c, 'id'), D.users.id),
        username: str(get(u, 'usernameField'), D.users.username),
        password: str(get(c, 'password'), D.users.password),
        isActive: str(get(c, 'isActive'), D.users.isActive),
        isStaff: col(get(c, 'isStaff'), D.users.isStaff),
        isSuperuser: col(get(c, 'isSuperuser'), D.users.isSuperuser),
        firstName: col(get(c, 'firstName'), D.users.firstName),
        lastName: col(get(c, 'lastName'), D.users.lastName),
        email: col(get(c, 'email'), D.users.email),
        dateJoined: col(get(c, 'dateJoined'), D.users.dateJoined),
        lastLogin: col(get(c, 'lastLogin'), D.users.lastLogin),
      },
      userGroups,
      userPermissions,
      groups,
      permissions,
    },
    log: {
      level: str(get(m, 'log', 'level'), 'info') as BridgeConfig['log']['level'],
      format: str(get(m, 'log', 'format'), 'auto') as BridgeConfig['log']['format'],
    },
    limits: {
      maxSearchEntries: num(m, ['limits', 'maxSearchEntries']),
      maxSearchSeconds: num(m, ['limits', 'maxSearchSeconds']),
      maxMessageBytes: num(m, ['limits', 'maxMessageBytes']),
      filterMaxDepth: num(m, ['limits', 'filterMaxDepth']),
      filterMaxElements: num(m, ['limits', 'filterMaxElements']),
      maxRequestedAttributes: num(m, ['limits', 'maxRequestedAttributes']),
      maxConnections: num(m, ['limits', 'maxConnections']),
      maxConnectionsPerAddress: num(m, ['limits', 'maxConnectionsPerAddress']),
      idleTimeoutSeconds: num(m, ['limits', 'idleTimeoutSeconds']),
      messageTimeoutSeconds: num(m, ['limits', 'messageTimeoutSeconds']),
      handshakeTimeoutSeconds: num(m, ['limits', 'handshakeTimeoutSeconds']),
      maxOutstandingPerConnection: num(m, ['limits', 'maxOutstandingPerConnection']),
      anonymousSearchEntries: num(m, ['limits', 'anonymousSearchEntries']),
    },
    security: {
      // Auto: the CPUs shared among the worker processes.
      hashConcurrency: num(m, ['security', 'hashConcurrency']) || Math.max(1, Math.floor(availableParallelism() / (num(m, ['workers']) || availableParallelism()))),
      hashQueue: num(m, ['security', 'hashQueue']),
      credentialCacheSeconds: num(m, ['security', 'credentialCacheSeconds']),
      credentialCacheEntries: num(m, ['security', 'credentialCacheEntries']),
      requireTls: (get(m, 'security', 'requireTls') ?? schemaDefault(['security', 'requireTls'])) as 'auto' | 'always' | 'never',
      redis: typeof get(m, 'security', 'redis') === 'string' ? (get(m, 'security', 'redis') as string) : null,
      bruteForce: {
        enabled: (get(m, 'security', 'bruteForce', 'enabled') ?? true) === true,
        userFailures: num(m, ['security', 'bruteForce', 'userFailures']),
        userWindowSeconds: num(m, ['security', 'bruteForce', 'userWindowSeconds']),
        addressFailures: num(m, ['security', 'bruteForce', 'addressFailures']),
        addressWindowSeconds: num(m, ['security', 'bruteForce', 'addressWindowSeconds']),
        lockoutSeconds: num(m, ['security', 'bruteForce', 'lockoutSeconds']),
        maxLockoutSeconds: num(m, ['security', 'bruteForce', 'maxLockoutSeconds']),
        trustedAddresses: Array.isArray(get(m, 'security', 'bruteForce', 'trustedAddresses')) ? (get(m, 'security', 'bruteForce', 'trustedAddresses') as unknown[]).map(String) : [],
      },
    },
    tls:
      get(m, 'tls') && typeof get(m, 'tls', 'cert') === 'string'
        ? { cert: resolve(cwd, get(m, 'tls', 'cert') as string), key: resolve(cwd, get(m, 'tls', 'key') as string) }
        : null,
    workers: num(m, ['workers']) || Math.max(1, availableParallelism()),
    metrics: { listen: typeof get(m, 'metrics', 'listen') === 'string' ? (get(m, 'metrics', 'listen') as string) : null },
    db: {
      poolSize: num(m, ['db', 'poolSize']),
      statementTimeoutSeconds: num(m, ['db', 'statementTimeoutSeconds']),
      startupRetrySeconds: num(m, ['db', 'startupRetrySeconds']),
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** The schema's default for a setting path (every numeric setting has one). */
function schemaDefault(path: string[]): unknown {
  let node: SchemaNode | undefined = configSchema();
  for (const k of path) node = node?.properties?.[k];
  return node?.default;
}

/** A numeric setting from the merged document, else its schema default. */
function num(m: Obj, path: string[]): number {
  const v = get(m, ...path);
  return typeof v === 'number' ? v : (schemaDefault(path) as number);
}

/**
 * Loads the configuration. Precedence: CLI flags > config file (--config, else DJANGO_LDAP_CONFIG;
 * YAML or JSON by extension) > environment (DJANGO_LDAP_<PATH>, see listEnvVars(); DATABASE_URL
 * when DJANGO_LDAP_DATABASE is unset) > defaults (Django's auth tables, ldap://127.0.0.1:3389,
 * log info/auto). Throws ConfigError listing every problem, each as `<dotted.path>: <message>`
 * (followed by `(from <VARIABLE or --flag>)` when that value did not come from the file).
 */
export function loadConfig(opts: { flags?: ConfigFlags; env?: Record<string, string | undefined>; cwd?: string } = {}): BridgeConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];

  const envL = envLayer(env, problems);
  const configPath = flags.config !== undefined && flags.config !== '' ? flags.config : env[CONFIG_ENV]?.trim() || undefined;
  const file: Layer = { data: configPath !== undefined ? readConfigFile(configPath, cwd) : {}, labels: new Map() };
  const flagL = flagsLayer(flags);

  const merged: Obj = {};
  const labels = new Map<string, string | null>();
  for (const layer of [envL, file, flagL]) mergeLayer(merged, layer.data, layer.labels, labels);

  const sourceOf = (path: string): string | null => {
    for (let p = path; p !== ''; p = p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '')) {
      if (labels.has(p)) return labels.get(p) ?? null;
      if (!/[.[]/.test(p)) break;
    }
    return null;
  };
  const render = (pr: Problem) => {
    const src = sourceOf(pr.path);
    return `${pr.path}: ${pr.message}${src ? ` (from ${src})` : ''}`;
  };

  const validate = validator();
  const schemaErrs = validate(merged) ? [] : schemaProblems(merged, validate.errors ?? []);
  const badPaths = new Set(schemaErrs.map((p) => p.path));
  const bad = (path: string) => [...badPaths].some((b) => b === path || path.startsWith(`${b}.`) || path.startsWith(`${b}[`));
  const all = [...schemaErrs, ...semanticProblems(merged, cwd, bad)];
  for (const pr of all) {
    const line = render(pr);
    if (!problems.includes(line)) problems.push(line);
  }
  if (merged.database === undefined) problems.push('database: required (set --database, DATABASE_URL or database: in the config file)');
  if (merged.baseDn === undefined) problems.push('baseDn: required (set --base-dn, DJANGO_LDAP_BASE_DN or baseDn: in the config file)');
  if (problems.length) throw new ConfigError(problems);
  return resolveConfig(merged, cwd);
}
