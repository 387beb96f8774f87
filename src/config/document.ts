// The settings document every config layer builds (the environment, the file, the flags) and
// the merged result: plain objects, read and written without ever touching a prototype (a
// config file may hold a "__proto__" key), and the dotted paths problems are reported under.

export type Obj = Record<string, unknown>;
/** One step of a setting's path: a key, or a list index. */
export type Seg = string | number;

export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** o[k] = v as an own property, even for k = "__proto__". */
export function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isPlainObject(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v)) setOwn(out, k, clone(v[k]));
    return out as T;
  }
  return v;
}

/** The value at a path of own keys, or undefined. */
export function get(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) cur = isPlainObject(cur) && hasOwn(cur, k) ? cur[k] : undefined;
  return cur;
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

/** A problem with one setting, before its source is added: `<path>: <message>`. */
export interface Problem {
  path: string;
  message: string;
}
