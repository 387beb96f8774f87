// What an LDAP attribute type definition says (RFC 4512 §4.1.2), and the syntax OIDs the
// bridge's types use. Its own module so that the schema (schema.ts) and the entry tables
// (attributes.ts), which the schema is built from, can both use it without importing each other.

export type Equality = 'caseIgnore' | 'caseExact' | 'dn' | 'integer' | 'boolean' | 'generalizedTime' | 'objectIdentifier' | 'uuid';

export interface AttributeType {
  oid: string;
  /** Canonical name first, then aliases. */
  names: string[];
  equality: Equality;
  syntax: string;
  singleValue?: boolean;
  operational?: boolean;
  description?: string;
  sup?: string;
}

/** Syntax OIDs (RFC 4517 §3.3). */
export const SYNTAX = {
  dirString: '1.3.6.1.4.1.1466.115.121.1.15',
  ia5: '1.3.6.1.4.1.1466.115.121.1.26',
  dn: '1.3.6.1.4.1.1466.115.121.1.12',
  integer: '1.3.6.1.4.1.1466.115.121.1.27',
  boolean: '1.3.6.1.4.1.1466.115.121.1.7',
  time: '1.3.6.1.4.1.1466.115.121.1.24',
  oid: '1.3.6.1.4.1.1466.115.121.1.38',
  uuid: '1.3.6.1.1.16.1',
};
