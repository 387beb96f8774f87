// evaluateWithout: a filter's value on an entry whose member attributes are not read yet. When
// it answers TRUE or FALSE, the full entry must answer the same whatever its members are; that
// is what lets a search skip reading a permission's holders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, evaluateWithout, parseFilter, UNDEFINED } from '../../../dist/ldap/filter.js';
import { Entry } from '../../../dist/ldap/entries.js';
import { attributeType } from '../../../dist/ldap/schema.js';

const ctx = { equalityOf: (k) => attributeType(k)?.equality ?? 'caseIgnore', caseExactDnTypes: new Set(['uid']) };
const BASE = 'dc=example,dc=com';
const UNKNOWN = new Set(['member', 'memberuid']);

function permission(members) {
  const e = new Entry(`cn=svn.commit,ou=permissions,${BASE}`).set('objectClass', ['top', 'groupOfNames']).set('cn', ['svn.commit']).set('description', ['Can commit']);
  if (members) e.set('member', members.map((m) => `uid=${m},ou=users,${BASE}`)).set('memberUid', members);
  return e;
}

const FILTERS = [
  '(uid=alice)', '(cn=svn.commit)', '(cn=other)', '(memberUid=alice)', '(member=*)', '(!(memberUid=alice))',
  '(|(uid=alice)(memberUid=alice))', '(&(cn=svn.commit)(memberUid=bob))', '(&(cn=other)(memberUid=alice))',
  '(!(uid=alice))', '(!(&(cn=svn.commit)(memberUid=alice)))', '(:dn:2.5.13.5:=alice)', '(memberUid:caseExactMatch:=alice)',
  '(|(objectClass=posixAccount)(memberUid=*li*))', '(cn>=svn)', '(description=Can*)',
];
const MEMBER_SETS = [undefined, [], ['alice'], ['bob'], ['alice', 'bob'], ['Alice']];

test('TRUE or FALSE without the members is the answer with any members', () => {
  let decided = 0;
  for (const text of FILTERS) {
    const f = parseFilter(text);
    const partial = evaluateWithout(f, permission(undefined), ctx, UNKNOWN);
    if (partial === UNDEFINED) continue;
    decided++;
    for (const m of MEMBER_SETS) assert.equal(evaluate(f, permission(m), ctx), partial, `${text} with members ${JSON.stringify(m)}`);
  }
  assert.ok(decided >= 6, `some filters are decided without members (${decided})`);
});

test('a filter on members is undecided until they are read', () => {
  for (const text of ['(memberUid=alice)', '(member=*)', '(!(memberUid=alice))', '(:dn:2.5.13.5:=alice)', '(|(uid=alice)(memberUid=alice))']) {
    assert.equal(evaluateWithout(parseFilter(text), permission(undefined), ctx, UNKNOWN), UNDEFINED, text);
  }
});
