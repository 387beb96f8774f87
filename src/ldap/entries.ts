// Turns directory objects into LDAP entries. Only what a request selects (or its filter
// reads) is computed: a search for one uid that asks for [uid] costs no group or permission
// query. Which attributes a user or group entry has, and where their values come from, is the
// table in attributes.ts; it is compiled here once, at load, into one builder per attribute.
import { createHash } from 'node:crypto';
import type { Group, Permission, Role, User } from '../directory/model.js';
import type { PosixSettings } from '../directory/posix.js';
import type { EvalEntry } from './filter.js';
import { attributeKey, attributeType, subschemaValues } from './schema.js';
import { SUBSCHEMA_DN, type Container, type Dit } from './dit.js';
import { attributeKey as key } from './schema.js';
import { formatColumn, GROUP_ATTRIBUTES, GROUP_CLASSES, keyOf, PERMISSION_ATTRIBUTES, POSIX_GROUP_CLASSES, POSIX_SSH_USER_CLASSES, POSIX_USER_CLASSES, ROLE_ATTRIBUTES, USER_ATTRIBUTES, type AttributeRow, type GroupExtras, type Source, type UserExtras, type Values } from './attributes.js';

export { GENERALIZED_TIME, USER_CLASSES, POSIX_USER_CLASSES, POSIX_GROUP_CLASSES, type UserExtras } from './attributes.js';

// Operational attributes are computed only when read: entryUUID costs a SHA-1, and Apache's
// searches ask for [uid] alone.
const OPERATIONAL_KEYS = new Set(['entryuuid', 'entrydn', 'subschemasubentry', 'hassubordinates']);

export class Entry implements EvalEntry {
  private readonly attrs = new Map<string, { name: string; values: string[] }>();
  private lazy: ((e: Entry) => void) | undefined;
  constructor(readonly dn: string) {}

  /** Defers the operational attributes until something reads them. */
  later(fill: (e: Entry) => void): this {
    this.lazy = fill;
    return this;
  }
  private materialize(): void {
    const f = this.lazy;
    this.lazy = undefined;
    f?.(this);
  }

  /** Adds an attribute under its schema name; empty values are dropped (LDAP has none). */
  set(name: string, values: readonly (string | null | undefined)[]): this {
    return this.put(key(name), name, values);
  }
  /** The same, with the key already known (the compiled builders know it). */
  put(k: string, name: string, values: readonly (string | null | undefined)[]): this {
    // Most lists are already clean (memberOf's twenty DNs): keep them as they are.
    let clean = values.length > 0;
    for (let i = 0; clean && i < values.length; i++) clean = typeof values[i] === 'string' && values[i] !== '';
    const vs = clean ? (values as string[]) : values.filter((v): v is string => typeof v === 'string' && v !== '');
    if (vs.length) this.attrs.set(k, { name, values: vs });
    return this;
  }
  get(k: string): readonly string[] | undefined {
    if (this.lazy && OPERATIONAL_KEYS.has(k)) this.materialize();
    return this.attrs.get(k)?.values;
  }
  has(k: string): boolean {
    return this.get(k) !== undefined;
  }
  /** Attributes to send, in insertion order, limited by the selection. */
  select(sel: Selection): Array<[string, string[]]> {
    if (this.lazy && (sel.allOperational || sel.names.size > 0)) {
      for (const k of OPERATIONAL_KEYS) if (sel.allOperational || sel.names.has(k)) {
        this.materialize();
        break;
      }
    }
    const out: Array<[string, string[]]> = [];
    for (const [k, a] of this.attrs) {
      if (sel.wants(k)) out.push([a.name, a.values]);
    }
    return out;
  }
}

/** Which attributes a search asked for (RFC 4511 §4.5.1.8, plus RFC 3673 '+'). */
export class Selection {
  readonly allUser: boolean;
  readonly allOperational: boolean;
  readonly names: ReadonlySet<string>;
  constructor(requested: readonly string[]) {
    const names = new Set<string>();
    let allUser = requested.length === 0;
    let allOperational = false;
    for (const r of requested) {
      if (r === '*') allUser = true;
      else if (r === '+') allOperational = true;
      else if (r === '1.1') continue;
      else names.add(attributeKey(r));
    }
    this.allUser = allUser;
    this.allOperational = allOperational;
    this.names = names;
  }
  wants(k: string): boolean {
    if (this.names.has(k)) return true;
    const at = attributeType(k);
    const operational = at?.operational === true;
    return operational ? this.allOperational : this.allUser;
  }
}

/** A stable UUID per object (name-based, RFC 4122 §4.3 style) so entryUUID survives restarts. */
function entryUuid(kind: string, id: string | number): string {
  const h = createHash('sha1').update(`django-ldap-bridge:${kind}:${id}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function operational(e: Entry, kind: string, id: string | number, hasChildren: boolean): Entry {
  return e.later((x) =>
    x
      .set('entryUUID', [entryUuid(kind, id)])
      .set('entryDN', [x.dn])
      .set('subschemaSubentry', [SUBSCHEMA_DN])
      .set('hasSubordinates', [hasChildren ? 'TRUE' : 'FALSE']),
  );
}

/** One attribute of a table, ready to build: its key, its name and how to compute its values. */
interface Builder<T, X> {
  key: string;
  name: string;
  values: (row: T, x: X, dit: Dit) => Values;
}

/** A table's rows made into builders, once: the fixed ones (objectClass), set on every entry
 * whatever the selection, and the others, built when selected. */
interface Compiled<T, X> {
  fixed: Array<{ key: string; name: string; values: readonly string[] }>;
  built: Builder<T, X>[];
}

function compile<T, X, Col extends { field: string; kind: Parameters<typeof formatColumn>[0] }>(rows: readonly AttributeRow<Source<T, X, Col>>[]): Compiled<T, X> {
  const out: Compiled<T, X> = { fixed: [], built: [] };
  for (const r of rows) {
    const from = r.from;
    let values: Builder<T, X>['values'];
    if ('fixed' in from) {
      out.fixed.push({ key: keyOf(r), name: r.type.names[0], values: from.fixed });
      continue;
    }
    if ('column' in from) {
      // A column's value by its property name: the table names the column, not an accessor.
      const { field, kind } = from.column;
      values = from.trim ? (row) => [((row as unknown as Record<string, unknown>)[field] as string | null)?.trim()] : (row) => [formatColumn(kind, (row as unknown as Record<string, unknown>)[field])];
    } else if ('derived' in from) {
      const derive = from.derived;
      values = (row) => [derive(row)];
    } else {
      values = from.related;
    }
    out.built.push({ key: keyOf(r), name: r.type.names[0], values });
  }
  return out;
}

const USER_BUILDERS = compile(USER_ATTRIBUTES);
const GROUP_BUILDERS = compile(GROUP_ATTRIBUTES);
const PERMISSION_BUILDERS = compile(PERMISSION_ATTRIBUTES);
const ROLE_BUILDERS = compile(ROLE_ATTRIBUTES);

/** An entry with every attribute of a compiled table (what was not loaded is left out). */
function build<T, X>(dn: string, table: Compiled<T, X>, row: T, x: X, dit: Dit): Entry {
  const e = new Entry(dn);
  for (const f of table.fixed) e.put(f.key, f.name, f.values);
  for (const b of table.built) {
    const vs = b.values(row, x, dit);
    if (vs) e.put(b.key, b.name, vs);
  }
  return e;
}

export function userEntry(dit: Dit, u: User, x: UserExtras): Entry {
  const w = x.only;
  const e = new Entry(dit.userDn(u.username));
  for (const f of USER_BUILDERS.fixed) e.put(f.key, f.name, f.values);
  // ldapPublicKey needs the keys loaded (search.ts loads them when objectClass is asked for).
  if (x.posix) e.set('objectClass', x.sshKeys?.length ? POSIX_SSH_USER_CLASSES : POSIX_USER_CLASSES);
  for (const b of USER_BUILDERS.built) {
    if (w && !w(b.key)) continue;
    const vs = b.values(u, x, dit);
    if (vs) e.put(b.key, b.name, vs);
  }
  return operational(e, 'user', u.id, false);
}

export function groupEntry(dit: Dit, g: Group, members: string[] | undefined, permissions: Permission[] | undefined, posix?: PosixSettings): Entry {
  const x: GroupExtras = { members, permissions, posix };
  const e = build(dit.groupDn(g.name), GROUP_BUILDERS, g, x, dit);
  if (posix) e.set('objectClass', POSIX_GROUP_CLASSES);
  return operational(e, 'group', g.id, false);
}

/** A Unix user's private group (posix.primaryGroup private): a posixGroup named like the
 * user, numbered like the uid (the user's gidNumber), with no members listed (the user has it
 * as their primary group, as Debian's user private groups do). */
export function privateGroupEntry(dit: Dit, u: User, posix: PosixSettings): Entry {
  const e = new Entry(dit.privateGroupDn(u.username))
    .set('objectClass', PRIVATE_GROUP_CLASSES)
    .set('cn', [u.username])
    .set('gidNumber', [String(posix.uidBase + u.id)]);
  return operational(e, 'usergroup', u.id, false);
}
export const PRIVATE_GROUP_CLASSES = ['top', 'posixGroup'];

export function permissionEntry(dit: Dit, p: Permission, members: string[] | undefined): Entry {
  return operational(build(dit.permissionDn(p), PERMISSION_BUILDERS, p, { members }, dit), 'permission', p.id, false);
}

export function roleEntry(dit: Dit, role: Role, members: string[] | undefined): Entry {
  return operational(build(dit.roleDn(role), ROLE_BUILDERS, role, { members }, dit), 'role', role, false);
}

export function containerEntry(dit: Dit, c: Container): Entry {
  return operational(new Entry(dit.containerDn[c]).set('objectClass', ['top', 'organizationalUnit']).set('ou', [dit.ouName(c)]), 'ou', c, true);
}

export function baseEntry(dit: Dit): Entry {
  const rdn = dit.baseRdn();
  const e = new Entry(dit.baseDn);
  const t = rdn.length === 1 ? attributeKey(rdn[0].type) : '';
  if (t === 'dc') e.set('objectClass', ['top', 'dcObject', 'domain']).set('dc', [rdn[0].value]);
  else if (t === 'o') e.set('objectClass', ['top', 'organization']).set('o', [rdn[0].value]);
  else if (t === 'ou') e.set('objectClass', ['top', 'organizationalUnit']).set('ou', [rdn[0].value]);
  else {
    e.set('objectClass', ['top', 'extensibleObject']);
    for (const ava of rdn) e.set(ava.type, [ava.value]);
  }
  return operational(e, 'base', dit.baseDn, true);
}

export function rootDseEntry(dit: Dit, version: string, extensions: string[], controls: string[]): Entry {
  return new Entry('')
    .set('objectClass', ['top', 'extensibleObject'])
    .set('namingContexts', [dit.baseDn])
    .set('supportedLDAPVersion', ['3'])
    .set('supportedControl', controls)
    .set('supportedExtension', extensions)
    .set('supportedFeatures', [
      '1.3.6.1.4.1.4203.1.5.1', // all operational attributes ('+'), RFC 3673
      '1.3.6.1.4.1.4203.1.5.3', // absolute true and false filters, RFC 4526
    ])
    .set('supportedSASLMechanisms', [])
    .set('subschemaSubentry', [SUBSCHEMA_DN])
    .set('vendorName', ['django-ldap-bridge'])
    .set('vendorVersion', [version]);
}

let subschemaCache: ReturnType<typeof subschemaValues> | undefined;
export function subschemaEntry(): Entry {
  subschemaCache ??= subschemaValues();
  return new Entry(SUBSCHEMA_DN)
    .set('objectClass', ['top', 'subentry', 'subschema', 'extensibleObject'])
    .set('cn', ['Subschema'])
    .set('attributeTypes', subschemaCache.attributeTypes)
    .set('objectClasses', subschemaCache.objectClasses);
}

/** objectClass values of group, permission and role entries, for compares that must not load
 * members (USER_CLASSES: of user entries). */
export const GROUPISH_CLASSES = GROUP_CLASSES;
