// The directory information tree: where each Django object lives, and what a DN names.
//
//   <base>                                   the naming context
//   ├── ou=users         uid=<username>      a Django user
//   ├── ou=groups        cn=<group name>     a Django group
//   ├── ou=permissions   cn=<app>.<codename> users holding a permission
//   ├── ou=roles         cn=staff, cn=superusers
//   └── ou=usergroups    cn=<username>       a Unix user's private group (posix.primaryGroup
//                                            private): a posixGroup numbered like the uid
import { BoundedMemo } from './memo.js';
import type { TreeLayout } from '../config/types.js';
import type { Permission, Role } from '../directory/model.js';
import { escapeDnValue, formatDn, normalizeDn, parseDn, type Rdn } from './dn.js';
import { attributeKey } from './schema.js';

export type Container = 'users' | 'groups' | 'permissions' | 'roles' | 'usergroups';
export const CONTAINERS: Container[] = ['users', 'groups', 'permissions', 'roles', 'usergroups'];
/** The private user groups' container: its own OU, so a private group (named like its user)
 * never shares a DN with a Django group of the same name. Served only with posix on and
 * primaryGroup private (search.ts containerServed). */
export const USERGROUPS_OU = 'usergroups';

export type Target =
  | { kind: 'root' }
  | { kind: 'subschema' }
  | { kind: 'base' }
  | { kind: 'ou'; ou: Container }
  | { kind: 'user'; username: string }
  | { kind: 'group'; name: string }
  | { kind: 'permission'; appLabel: string; codename: string }
  | { kind: 'role'; role: Role }
  /** A Unix user's private group, cn=<username>,ou=usergroups (served with posix.primaryGroup
   * private; read-entries.ts decides whether that user has one). */
  | { kind: 'privateGroup'; username: string }
  /** Nothing by that name; `matched` is the deepest entry that does exist above it. */
  | { kind: 'none'; matched: string };

export const SUBSCHEMA_DN = 'cn=Subschema';

/** DNs are remembered up to this length; RFC-sized ones (Apache's, a service account's) are
 * far shorter, and longer ones are parsed each time (see memo.ts). */
export const MEMO_DN_CHARS = 1024;
/** Characters of DNs each memo keeps at most. */
const MEMO_TOTAL_CHARS = 1 << 20;
/** Beyond the base DN, the longest DN this tree can hold, generously: a 255-character value
 * (Django's longest names are 150) written wholly in hex escapes of 4-byte UTF-8 is 3,060
 * characters; the rest allows for the container RDN and spaces around separators. A longer
 * DN names nothing here and is answered without being parsed. */
const MAX_DN_CHARS_BELOW_BASE = 4096;
/** The key of every DN longer than the tree can hold: no parsed DN normalises to it (a NUL
 * in a value is written \00), so it equals no service account and no entry. */
const TOO_LONG_KEY = '\u0000too long';
const TOO_LONG: Target = Object.freeze({ kind: 'none', matched: '' });
export const ROLES: Role[] = ['staff', 'superusers'];

export class Dit {
  readonly baseDn: string;
  private readonly baseRdns: Rdn[];
  private readonly baseKey: string;
  private readonly ouNames: Record<Container, string>;
  private readonly ouByKey = new Map<string, Container>();
  readonly containerDn: Record<Container, string>;
  /** Types whose values compare case-exactly inside DNs (uid unless usernames are case-insensitive). */
  readonly caseExactTypes: ReadonlySet<string>;
  /** Longer DNs name nothing in this tree. */
  readonly maxDnChars: number;

  constructor(tree: TreeLayout, caseInsensitiveUsernames: boolean) {
    this.baseRdns = parseDn(tree.baseDn);
    this.baseDn = formatDn(this.baseRdns);
    this.caseExactTypes = caseInsensitiveUsernames ? new Set() : new Set(['uid']);
    this.baseKey = normalizeDn(this.baseRdns);
    this.maxDnChars = MAX_DN_CHARS_BELOW_BASE + 3 * tree.baseDn.length;
    this.ouNames = { users: tree.usersOu, groups: tree.groupsOu, permissions: tree.permissionsOu, roles: tree.rolesOu, usergroups: USERGROUPS_OU };
    this.containerDn = {} as Record<Container, string>;
    for (const c of CONTAINERS) {
      this.containerDn[c] = `ou=${escapeDnValue(this.ouNames[c])},${this.baseDn}`;
      this.ouByKey.set(this.ouNames[c].toLowerCase(), c);
    }
  }

  userDn(username: string): string {
    return `uid=${escapeDnValue(username)},${this.containerDn.users}`;
  }
  /** Group DNs repeat in every member's memberOf: escape each name once. */
  private readonly groupDns = new BoundedMemo<string, string>(100_000, (name) => `cn=${escapeDnValue(name)},${this.containerDn.groups}`);
  groupDn(name: string): string {
    return this.groupDns.get(name);
  }
  /** A Unix user's private group (entries.ts privateGroupEntry). */
  privateGroupDn(username: string): string {
    return `cn=${escapeDnValue(username)},${this.containerDn.usergroups}`;
  }
  // The directory's permission objects live as long as its permission list (seconds) and each
  // appears in the memberOf of thousands of entries in an export: its DN is made once.
  private readonly permissionDns = new WeakMap<object, string>();
  permissionDn(p: Pick<Permission, 'appLabel' | 'codename'>): string {
    let dn = this.permissionDns.get(p);
    if (dn === undefined) this.permissionDns.set(p, (dn = `cn=${escapeDnValue(`${p.appLabel}.${p.codename}`)},${this.containerDn.permissions}`));
    return dn;
  }
  roleDn(role: Role): string {
    return `cn=${role},${this.containerDn.roles}`;
  }

  // Apache names the same few DNs over and over (its service account, its users, its group):
  // remember what each string parsed to.
  // Clients choose these strings: the memos are bounded in characters as well as entries.
  private static readonly MEMO_BOUNDS = { max: 10_000, maxKeyChars: MEMO_DN_CHARS, maxChars: MEMO_TOTAL_CHARS };
  private readonly keys = new BoundedMemo<string, string>(Dit.MEMO_BOUNDS, (dn) => normalizeDn(dn, { caseExactTypes: this.caseExactTypes }));
  private readonly targets = new BoundedMemo<string, Target>(Dit.MEMO_BOUNDS, (dn) => Object.freeze(this.parseTarget(dn)));

  /** Normalised key of a DN for equality tests (throws InvalidDnError). A DN longer than the
   * tree can hold gets one key that equals nothing else. */
  key(dn: string | Rdn[]): string {
    if (typeof dn !== 'string') return normalizeDn(dn, { caseExactTypes: this.caseExactTypes });
    return dn.length > this.maxDnChars ? TOO_LONG_KEY : this.keys.get(dn);
  }

  /** What a DN names (the same object for the same string: callers must not change it).
   * Throws InvalidDnError on bad syntax; a DN longer than the tree can hold names nothing. */
  classify(dn: string): Target {
    return dn.length > this.maxDnChars ? TOO_LONG : this.targets.get(dn);
  }

  /** Entries and characters the DN memos hold now (they are bounded in both). */
  get memoised(): { entries: number; chars: number } {
    return { entries: this.keys.size + this.targets.size, chars: this.keys.chars + this.targets.chars };
  }

  private parseTarget(dn: string): Target {
    const rdns = parseDn(dn);
    if (rdns.length === 0) return { kind: 'root' };
    if (rdns.length === 1 && rdns[0].length === 1 && attributeKey(rdns[0][0].type) === 'cn' && rdns[0][0].value.toLowerCase() === 'subschema') {
      return { kind: 'subschema' };
    }
    const extra = rdns.length - this.baseRdns.length;
    if (extra < 0 || normalizeDn(rdns.slice(extra)) !== this.baseKey) return { kind: 'none', matched: '' };
    if (extra === 0) return { kind: 'base' };
    const ouRdn = rdns[extra - 1];
    const ou = ouRdn.length === 1 && attributeKey(ouRdn[0].type) === 'ou' ? this.ouByKey.get(ouRdn[0].value.toLowerCase()) : undefined;
    if (!ou) return { kind: 'none', matched: this.baseDn };
    if (extra === 1) return { kind: 'ou', ou };
    const matched = this.containerDn[ou];
    if (extra > 2) return { kind: 'none', matched: '' };
    const leaf = rdns[0];
    if (leaf.length !== 1) return { kind: 'none', matched };
    const type = attributeKey(leaf[0].type);
    const value = leaf[0].value;
    switch (ou) {
      case 'users':
        return type === 'uid' ? { kind: 'user', username: value } : { kind: 'none', matched };
      case 'groups':
        return type === 'cn' ? { kind: 'group', name: value } : { kind: 'none', matched };
      case 'permissions': {
        const dot = value.indexOf('.');
        if (type !== 'cn' || dot <= 0) return { kind: 'none', matched };
        return { kind: 'permission', appLabel: value.slice(0, dot), codename: value.slice(dot + 1) };
      }
      case 'roles': {
        const role = ROLES.find((r) => r === value.toLowerCase());
        return type === 'cn' && role ? { kind: 'role', role } : { kind: 'none', matched };
      }
      case 'usergroups':
        return type === 'cn' ? { kind: 'privateGroup', username: value } : { kind: 'none', matched };
    }
  }

  /** The RDN value an OU is named with. */
  ouName(c: Container): string {
    return this.ouNames[c];
  }
  baseRdn(): Rdn {
    return this.baseRdns[0];
  }
}
