// The LDAP schema the bridge serves: attribute types with their matching rules, and object
// classes. One list (the user and group entries' attributes from attributes.ts, then the
// others) drives filter evaluation, compare, attribute-name case folding and the cn=Subschema
// entry, so what a client reads in the schema is what the server does.
import { normalizeDn } from './dn.js';
import { DESCRIPTION, GROUP_ATTRIBUTES, PERMISSION_ATTRIBUTES, POSIX_GROUP_CLASSES, POSIX_USER_CLASSES, ROLE_ATTRIBUTES, USER_ATTRIBUTES, type AttributeRow } from './attributes.js';
import { SYNTAX, type AttributeType, type Equality } from './attribute-type.js';

export type { AttributeType, Equality };

// The attributes of user and group entries are defined in their tables (attributes.ts); these
// are the others: the tree's naming attributes, the operational ones and the root DSE's.
const SYN = SYNTAX;
const OTHER_TYPES: AttributeType[] = [
  { oid: '2.5.4.11', names: ['ou', 'organizationalUnitName'], equality: 'caseIgnore', syntax: SYN.dirString },
  { oid: '2.5.4.10', names: ['o', 'organizationName'], equality: 'caseIgnore', syntax: SYN.dirString },
  { oid: '0.9.2342.19200300.100.1.25', names: ['dc', 'domainComponent'], equality: 'caseIgnore', syntax: SYN.ia5, singleValue: true },
  DESCRIPTION,
  { oid: '2.5.4.50', names: ['uniqueMember'], equality: 'dn', syntax: SYN.dn },
  { oid: '1.3.6.1.1.16.4', names: ['entryUUID'], equality: 'uuid', syntax: SYN.uuid, singleValue: true, operational: true },
  { oid: '1.3.6.1.1.20', names: ['entryDN'], equality: 'dn', syntax: SYN.dn, singleValue: true, operational: true },
  // Declared for clients that read the schema before they search (ldap3's Server(get_info=ALL)
  // wants both), but not served: Django keeps no time of a user's last change, and last_login
  // or date_joined in its place would tell a sync tool that nothing changed. createTimestamp is
  // a row of the user table (date_joined).
  { oid: '2.5.18.2', names: ['modifyTimestamp'], equality: 'generalizedTime', syntax: SYN.time, singleValue: true, operational: true },
  { oid: '2.5.18.10', names: ['subschemaSubentry'], equality: 'dn', syntax: SYN.dn, singleValue: true, operational: true },
  { oid: '2.5.18.9', names: ['hasSubordinates'], equality: 'boolean', syntax: SYN.boolean, singleValue: true, operational: true },
  { oid: '2.5.21.5', names: ['attributeTypes'], equality: 'objectIdentifier', syntax: '1.3.6.1.4.1.1466.115.121.1.3', operational: true },
  { oid: '2.5.21.6', names: ['objectClasses'], equality: 'objectIdentifier', syntax: '1.3.6.1.4.1.1466.115.121.1.37', operational: true },
  { oid: '1.3.6.1.4.1.1466.101.120.5', names: ['namingContexts'], equality: 'dn', syntax: SYN.dn, operational: true },
  { oid: '1.3.6.1.4.1.1466.101.120.13', names: ['supportedControl'], equality: 'objectIdentifier', syntax: SYN.oid, operational: true },
  { oid: '1.3.6.1.4.1.1466.101.120.7', names: ['supportedExtension'], equality: 'objectIdentifier', syntax: SYN.oid, operational: true },
  { oid: '1.3.6.1.4.1.4203.1.3.5', names: ['supportedFeatures'], equality: 'objectIdentifier', syntax: SYN.oid, operational: true },
  { oid: '1.3.6.1.4.1.1466.101.120.15', names: ['supportedLDAPVersion'], equality: 'integer', syntax: SYN.integer, operational: true },
  { oid: '1.3.6.1.4.1.1466.101.120.14', names: ['supportedSASLMechanisms'], equality: 'caseIgnore', syntax: SYN.dirString, operational: true },
  { oid: '1.3.6.1.1.4', names: ['vendorName'], equality: 'caseIgnore', syntax: SYN.dirString, singleValue: true, operational: true },
  { oid: '1.3.6.1.1.5', names: ['vendorVersion'], equality: 'caseIgnore', syntax: SYN.dirString, singleValue: true, operational: true },
];

/** Every attribute type the bridge knows, each once: a user entry's, then a group entry's, then
 * the others. cn=Subschema lists them in this order. */
export const ATTRIBUTE_TYPES: AttributeType[] = [...new Set([...USER_ATTRIBUTES, ...GROUP_ATTRIBUTES, ...PERMISSION_ATTRIBUTES, ...ROLE_ATTRIBUTES].map((r) => r.type).concat(OTHER_TYPES))];

export interface ObjectClass {
  oid: string;
  name: string;
  sup?: string;
  kind: 'ABSTRACT' | 'STRUCTURAL' | 'AUXILIARY';
  must: string[];
  may: string[];
  description?: string;
}

export const OBJECT_CLASSES: ObjectClass[] = [
  { oid: '2.5.6.0', name: 'top', kind: 'ABSTRACT', must: ['objectClass'], may: [] },
  { oid: '2.5.6.6', name: 'person', sup: 'top', kind: 'STRUCTURAL', must: ['sn', 'cn'], may: ['description'] },
  { oid: '2.5.6.7', name: 'organizationalPerson', sup: 'person', kind: 'STRUCTURAL', must: [], may: ['ou'] },
  { oid: '2.16.840.1.113730.3.2.2', name: 'inetOrgPerson', sup: 'organizationalPerson', kind: 'STRUCTURAL', must: [], may: ['displayName', 'givenName', 'mail', 'uid'] },
  { oid: '1.3.6.1.4.1.99999.2.1', name: 'djangoAccount', sup: 'top', kind: 'AUXILIARY', must: ['uid', 'djangoId'], may: ['djangoIsActive', 'djangoIsStaff', 'djangoIsSuperuser', 'djangoDateJoined', 'djangoLastLogin', 'djangoPermission', 'memberOf'], description: 'A Django user account served by django-ldap-bridge' },
  { oid: '1.3.6.1.1.1.2.0', name: 'posixAccount', sup: 'top', kind: 'AUXILIARY', must: ['cn', 'uid', 'uidNumber', 'gidNumber', 'homeDirectory'], may: ['loginShell', 'gecos', 'description'], description: 'RFC 2307: served with posix.enabled' },
  { oid: '1.3.6.1.1.1.2.2', name: 'posixGroup', sup: 'top', kind: 'AUXILIARY', must: ['cn', 'gidNumber'], may: ['memberUid', 'description'], description: 'RFC 2307 (auxiliary, as rfc2307bis has it): served with posix.enabled' },
  { oid: '1.3.6.1.4.1.24552.500.1.1.2.0', name: 'ldapPublicKey', sup: 'top', kind: 'AUXILIARY', must: [], may: ['sshPublicKey', 'uid'], description: 'openssh-lpk: on Unix users that have SSH keys (posix.sshKeys)' },
  { oid: '2.5.6.9', name: 'groupOfNames', sup: 'top', kind: 'STRUCTURAL', must: ['cn'], may: ['member', 'description', 'o', 'ou'] },
  { oid: '1.3.6.1.4.1.99999.2.2', name: 'djangoGroup', sup: 'top', kind: 'AUXILIARY', must: [], may: ['memberUid', 'djangoId', 'djangoPermission'], description: 'A Django group, permission or role served as a group; memberUid holds usernames (for AuthLDAPGroupAttributeIsDN off)' },
  { oid: '1.3.6.1.4.1.1466.344', name: 'dcObject', sup: 'top', kind: 'AUXILIARY', must: ['dc'], may: [] },
  { oid: '2.5.17.0', name: 'subentry', sup: 'top', kind: 'STRUCTURAL', must: ['cn'], may: [] },
  { oid: '2.5.6.5', name: 'organizationalUnit', sup: 'top', kind: 'STRUCTURAL', must: ['ou'], may: ['description'] },
  { oid: '0.9.2342.19200300.100.4.13', name: 'domain', sup: 'top', kind: 'STRUCTURAL', must: ['dc'], may: ['description', 'o'] },
  { oid: '2.5.6.4', name: 'organization', sup: 'top', kind: 'STRUCTURAL', must: ['o'], may: ['description'] },
  { oid: '1.3.6.1.4.1.1466.101.120.111', name: 'extensibleObject', sup: 'top', kind: 'AUXILIARY', must: [], may: [] },
  { oid: '2.5.20.1', name: 'subschema', kind: 'AUXILIARY', must: [], may: ['attributeTypes', 'objectClasses'] },
];

/** An attribute a table adds that no class of its entries allows goes into the bridge's own
 * auxiliary class of those entries (djangoAccount, djangoGroup), so the schema allows every
 * attribute an entry carries without the class being edited by hand. */
function allowTableAttributes(aux: string, classes: readonly string[], rows: readonly AttributeRow<unknown>[]): void {
  const ofEntry = OBJECT_CLASSES.filter((oc) => classes.includes(oc.name));
  const allowed = new Set(ofEntry.flatMap((oc) => [...oc.must, ...oc.may]).map((n) => n.toLowerCase()));
  const target = ofEntry.find((oc) => oc.name === aux)!;
  // Operational attributes belong to no class (RFC 4512 §3.4).
  for (const r of rows) if (!r.type.operational && !allowed.has(r.type.names[0].toLowerCase())) target.may.push(r.type.names[0]);
}
allowTableAttributes('djangoAccount', POSIX_USER_CLASSES, USER_ATTRIBUTES);
allowTableAttributes('djangoGroup', POSIX_GROUP_CLASSES, [...GROUP_ATTRIBUTES, ...PERMISSION_ATTRIBUTES, ...ROLE_ATTRIBUTES]);

const byName = new Map<string, AttributeType>();
for (const at of ATTRIBUTE_TYPES) {
  for (const n of at.names) byName.set(n.toLowerCase(), at);
  byName.set(at.oid, at);
}
const objectClassByName = new Map<string, ObjectClass>();
for (const oc of OBJECT_CLASSES) {
  objectClassByName.set(oc.name.toLowerCase(), oc);
  objectClassByName.set(oc.oid, oc);
}

/** Looks an attribute up by any of its names or its OID, case-insensitively. */
export function attributeType(name: string): AttributeType | undefined {
  return byName.get(name.toLowerCase());
}

/** The canonical lower-case key for an attribute description (options like `;binary` dropped). */
export function attributeKey(name: string): string {
  const semi = name.indexOf(';');
  const base = semi >= 0 ? name.slice(0, semi) : name;
  const at = byName.get(base.toLowerCase());
  return at ? at.names[0].toLowerCase() : base.toLowerCase();
}

export function objectClass(name: string): ObjectClass | undefined {
  return objectClassByName.get(name.toLowerCase());
}

/** Case-folds for caseIgnore: Unicode lower case. Spaces are kept as they are so that the
 * in-memory match is exactly what the database's lower() comparison does for ASCII values. */
export function foldCase(s: string): string {
  return s.toLowerCase();
}

/**
 * Prepares a value for equality under an attribute's matching rule. Returns undefined when
 * the value is not valid for the syntax (the comparison is then Undefined, RFC 4511 §4.5.1.7).
 */
export function normalizeValue(equality: Equality, value: string, caseExactTypes?: ReadonlySet<string>): string | undefined {
  switch (equality) {
    case 'caseIgnore':
      return foldCase(value);
    case 'caseExact':
      return value;
    case 'dn':
      try {
        return normalizeDn(value, { caseExactTypes });
      } catch {
        return undefined;
      }
    case 'integer': {
      // Canonical decimal without BigInt, whose parse and print are superlinear (a 200000-digit
      // assertion cost 36 ms per entry): drop leading zeros and the sign of zero.
      const m = /^(-?)0*(\d+)$/.exec(value);
      if (!m) return undefined;
      return m[2] === '0' ? '0' : m[1] + m[2];
    }
    case 'boolean':
      return value === 'TRUE' || value === 'FALSE' ? value : undefined;
    case 'objectIdentifier': {
      const oc = objectClassByName.get(value.toLowerCase());
      if (oc) return oc.oid;
      const at = byName.get(value.toLowerCase());
      return at ? at.oid : value.toLowerCase();
    }
    case 'uuid':
      return value.toLowerCase();
    case 'generalizedTime':
      return /^\d{14}(\.\d+)?Z$/.test(value) ? value : undefined;
  }
}

/** Ordering for >= and <= (integer and time compare as values, strings by code point). */
export function compareValues(equality: Equality, a: string, b: string): number {
  if (equality === 'integer') {
    // a and b are normalised (normalizeValue): sign, then length, then digits.
    const na = a.startsWith('-');
    const nb = b.startsWith('-');
    if (na !== nb) return na ? -1 : 1;
    const c = a.length !== b.length ? (a.length < b.length ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
    return na ? -c : c;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ordering rule a filter's >= and <= follow (compareValues), declared where RFC 4517 names
 * one for the equality rule whose values compare as values rather than as text. */
const ORDERING_RULE: Partial<Record<Equality, string>> = {
  integer: 'integerOrderingMatch',
  generalizedTime: 'generalizedTimeOrderingMatch',
};

function q(s: string): string {
  return `'${s.replace(/\\/g, '\\5c').replace(/'/g, '\\27')}'`;
}

/** RFC 4512 §4.1 descriptions for cn=Subschema. */
export function subschemaValues(): { attributeTypes: string[]; objectClasses: string[] } {
  const ruleName: Record<Equality, string> = {
    caseIgnore: 'caseIgnoreMatch',
    caseExact: 'caseExactMatch',
    dn: 'distinguishedNameMatch',
    integer: 'integerMatch',
    boolean: 'booleanMatch',
    generalizedTime: 'generalizedTimeMatch',
    objectIdentifier: 'objectIdentifierMatch',
    uuid: 'uuidMatch',
  };
  const attributeTypes = ATTRIBUTE_TYPES.map((at) => {
    const names = at.names.length === 1 ? q(at.names[0]) : `( ${at.names.map(q).join(' ')} )`;
    let s = `( ${at.oid} NAME ${names}`;
    if (at.description) s += ` DESC ${q(at.description)}`;
    s += ` EQUALITY ${ruleName[at.equality]}`;
    if (ORDERING_RULE[at.equality]) s += ` ORDERING ${ORDERING_RULE[at.equality]}`;
    s += ` SYNTAX ${at.syntax}`;
    if (at.singleValue) s += ' SINGLE-VALUE';
    if (at.operational) s += ' NO-USER-MODIFICATION USAGE directoryOperation';
    return s + ' )';
  });
  const list = (xs: string[]) => (xs.length === 1 ? xs[0] : `( ${xs.join(' $ ')} )`);
  const objectClasses = OBJECT_CLASSES.map((oc) => {
    let s = `( ${oc.oid} NAME ${q(oc.name)}`;
    if (oc.description) s += ` DESC ${q(oc.description)}`;
    if (oc.sup) s += ` SUP ${oc.sup}`;
    s += ` ${oc.kind}`;
    if (oc.must.length) s += ` MUST ${list(oc.must)}`;
    if (oc.may.length) s += ` MAY ${list(oc.may)}`;
    return s + ' )';
  });
  return { attributeTypes, objectClasses };
}

/** The bridge's own attribute types and object classes in OpenLDAP's .schema syntax (the RFC
 * 4512 descriptions behind `attributetype` / `objectclass`), for schemas/django-ldap-bridge.schema. */
export function bridgeSchemaText(): string {
  const { attributeTypes, objectClasses } = subschemaValues();
  const own = (d: string) => d.startsWith('( 1.3.6.1.4.1.99999.');
  return [
    '# django-ldap-bridge: the attributes and object classes it serves beyond the standard schema.',
    '# Generated from src/ldap/attributes.ts and schema.ts (`django-ldap-bridge schema`); the same definitions are',
    '# served from cn=Subschema. OIDs under 1.3.6.1.4.1.99999 are a private placeholder arc.',
    '',
    ...attributeTypes.filter(own).map((d) => `attributetype ${d}`),
    '',
    ...objectClasses.filter(own).map((d) => `objectclass ${d}`),
    '',
  ].join('\n');
}
