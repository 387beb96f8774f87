// The config file's JSON Schema (schemas/config.schema.json): reading it, validating a merged
// settings document with ajv, and turning ajv's errors into problems a person can act on
// (`users.tabel: unknown setting (did you mean "table"?)`). The schema is read at runtime
// (../../schemas from dist/config) and also drives the environment variables (env.ts) and the
// numeric defaults (resolve.ts).
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { formatPath, hasOwn, isPlainObject, type Obj, type Problem, type Seg } from './document.js';

export interface SchemaNode {
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

/** Where the schema lives: <package>/schemas/config.schema.json (this file is <package>/dist/config/schema.js). */
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

/** The schema's default for a setting path (every numeric setting has one). */
export function schemaDefault(path: readonly string[]): unknown {
  let node: SchemaNode | undefined = configSchema();
  for (const k of path) node = node?.properties?.[k];
  return node?.default;
}

/** The JSON types a schema node allows (from `type`, else from its `enum` values). */
export function typesOf(node: SchemaNode): string[] {
  if (node.type !== undefined) return Array.isArray(node.type) ? node.type : [node.type];
  if (node.enum) return [...new Set(node.enum.map((v) => (v === null ? 'null' : typeof v)))];
  return [];
}

/** Every way the merged document breaks the schema, one problem per setting and cause. */
export function schemaProblems(merged: Obj): Problem[] {
  const validate = validator();
  return validate(merged) ? [] : describeErrors(merged, validate.errors ?? []);
}

// ---------------------------------------------------------------------------------------------
// ajv's errors in words

const IDENT_PATTERN = '^[A-Za-z_][A-Za-z0-9_$]*$';
const OU_PATTERN = '^[^,=+<>#;\\\\"]+$';
const HASH_ALGORITHMS = ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt', 'scrypt', 'sha1', 'md5', 'unsalted_md5', 'unsalted_sha1', 'crypt'];
/** Settings whose values are never repeated in a message. */
const SECRET_PATHS = [/^database$/, /^writes\.database$/, /^serviceAccounts(\[\d+\])?(\.password)?$/];

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

function describeErrors(data: Obj, errors: ErrorObject[]): Problem[] {
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
        } else if (path === 'mfa.require') {
          out.push({ path, message: `must be off, confirmed-device, group:<Django group name> or permission:<app_label>.<codename>${shownValue(path, value)}` });
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
