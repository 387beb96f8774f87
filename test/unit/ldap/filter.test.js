// Tests for src/ldap/filter.ts: the RFC 4515 string parser, filterToString, the BER decoder
// (fed by ldapjs's own client-side encoder) and evaluate() with RFC 4511 three-valued logic.
// Runs against the compiled dist/.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ldapjsFilter from '@ldapjs/filter';
import { BerReader, BerError, tlv, octets, sequence } from '../../../dist/ldap/ber.js';
import { parseFilter, filterToString, readFilter, evaluate, escapeFilterValue, FilterError, TRUE, FALSE, UNDEFINED } from '../../../dist/ldap/filter.js';
import { BridgeContext } from '../../../dist/ldap/context.js';
import { Dit } from '../../../dist/ldap/dit.js';
import { Entry, userEntry, groupEntry } from '../../../dist/ldap/entries.js';

/** The AST without keys whose value is undefined (the parser writes `attr: undefined` for
 * `(:rule:=x)`, the BER decoder leaves the key out; both mean the same filter). */
function norm(f) {
  return JSON.parse(JSON.stringify(f));
}

const eq = (attr, value) => ({ type: 'eq', attr, value });

// ---------------------------------------------------------------- parseFilter

describe('parseFilter: RFC 4515 §4 examples', () => {
  const cases = [
    ['(cn=Babs Jensen)', eq('cn', 'Babs Jensen')],
    ['(!(cn=Tim Howes))', { type: 'not', filter: eq('cn', 'Tim Howes') }],
    [
      '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))',
      { type: 'and', filters: [eq('objectClass', 'Person'), { type: 'or', filters: [eq('sn', 'Jensen'), { type: 'substr', attr: 'cn', initial: 'Babs J', any: [] }] }] },
    ],
    ['(o=univ*of*mich*)', { type: 'substr', attr: 'o', initial: 'univ', any: ['of', 'mich'] }],
    ['(seeAlso=)', eq('seeAlso', '')],
    ['(cn:caseExactMatch:=Fred Flintstone)', { type: 'ext', attr: 'cn', rule: 'caseExactMatch', value: 'Fred Flintstone', dnAttrs: false }],
    ['(cn:=Betty Rubble)', { type: 'ext', attr: 'cn', rule: undefined, value: 'Betty Rubble', dnAttrs: false }],
    ['(sn:dn:2.4.6.8.10:=Barney Rubble)', { type: 'ext', attr: 'sn', rule: '2.4.6.8.10', value: 'Barney Rubble', dnAttrs: true }],
    ['(o:dn:=Ace Industry)', { type: 'ext', attr: 'o', rule: undefined, value: 'Ace Industry', dnAttrs: true }],
    ['(:1.2.3:=Wilma Flintstone)', { type: 'ext', attr: undefined, rule: '1.2.3', value: 'Wilma Flintstone', dnAttrs: false }],
    // RFC 4515 spells this one ":DN:"; ABNF literals are case-insensitive (RFC 5234 §2.3).
    ['(:DN:2.4.6.8.10:=Dino)', { type: 'ext', attr: undefined, rule: '2.4.6.8.10', value: 'Dino', dnAttrs: true }],
    ['(:dn:2.4.6.8.10:=Dino)', { type: 'ext', attr: undefined, rule: '2.4.6.8.10', value: 'Dino', dnAttrs: true }],
    ['(o=Parens R Us \\28for all your parenthetical needs\\29)', eq('o', 'Parens R Us (for all your parenthetical needs)')],
    ['(cn=*\\2A*)', { type: 'substr', attr: 'cn', any: ['*'] }],
    ['(filename=C:\\5cMyFile)', eq('filename', 'C:\\MyFile')],
    ['(bin=\\00\\00\\00\\04)', eq('bin', '\0\0\0\x04')],
    ['(sn=Lu\\c4\\8di\\c4\\87)', eq('sn', 'Lučić')],
    ['(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)', eq('1.3.6.1.4.1.1466.0', '\x04\x02Hi')],
    ['(cn=Babs J\\2a)', eq('cn', 'Babs J*')],
  ];
  for (const [text, ast] of cases) {
    test(text, () => assert.deepEqual(parseFilter(text), ast));
  }
});

describe('parseFilter: other forms', () => {
  test("Apache's (&(objectclass=*)(uid=alice))", () => {
    assert.deepEqual(parseFilter('(&(objectclass=*)(uid=alice))'), { type: 'and', filters: [{ type: 'present', attr: 'objectclass' }, eq('uid', 'alice')] });
  });
  test('absolute true and false (RFC 4526)', () => {
    assert.deepEqual(parseFilter('(&)'), { type: 'and', filters: [] });
    assert.deepEqual(parseFilter('(|)'), { type: 'or', filters: [] });
  });
  test('ordering, approximate, present, substring shapes', () => {
    assert.deepEqual(parseFilter('(djangoId>=10)'), { type: 'ge', attr: 'djangoId', value: '10' });
    assert.deepEqual(parseFilter('(djangoId<=10)'), { type: 'le', attr: 'djangoId', value: '10' });
    assert.deepEqual(parseFilter('(cn~=bab)'), { type: 'approx', attr: 'cn', value: 'bab' });
    assert.deepEqual(parseFilter('(cn=*)'), { type: 'present', attr: 'cn' });
    assert.deepEqual(parseFilter('(cn=\\2a)'), eq('cn', '*'));
    assert.deepEqual(parseFilter('(cn=a*)'), { type: 'substr', attr: 'cn', initial: 'a', any: [] });
    assert.deepEqual(parseFilter('(cn=*a)'), { type: 'substr', attr: 'cn', any: [], final: 'a' });
    assert.deepEqual(parseFilter('(cn=*a*)'), { type: 'substr', attr: 'cn', any: ['a'] });
    assert.deepEqual(parseFilter('(cn=a*b*c)'), { type: 'substr', attr: 'cn', initial: 'a', any: ['b'], final: 'c' });
  });
  test('attribute options, OIDs, raw UTF-8, = and : inside values', () => {
    assert.deepEqual(parseFilter('(cn;lang-en=x)'), eq('cn;lang-en', 'x'));
    assert.deepEqual(parseFilter('(2.5.4.3=x)'), eq('2.5.4.3', 'x'));
    assert.deepEqual(parseFilter('(cn=日本 🎉)'), eq('cn', '日本 🎉'));
    assert.deepEqual(parseFilter('(memberOf=cn=a,ou=groups,dc=x)'), eq('memberOf', 'cn=a,ou=groups,dc=x'));
    assert.deepEqual(parseFilter('(mail=a:b@c)'), eq('mail', 'a:b@c'));
  });
  test('escapes next to characters outside the BMP', () => {
    // Regression: unescaping went code unit by code unit and turned each half of a surrogate
    // pair into U+FFFD.
    assert.deepEqual(parseFilter('(cn=🎉\\2a)'), eq('cn', '🎉*'));
    assert.deepEqual(parseFilter('(cn=\\f0\\9f\\8e\\89 and 🎉 \\28x\\29)'), eq('cn', '🎉 and 🎉 (x)'));
    assert.deepEqual(parseFilter('(cn=𝔘*\\5c*𝔘)'), { type: 'substr', attr: 'cn', initial: '𝔘', any: ['\\'], final: '𝔘' });
  });
  test('uppercase and lowercase hex escapes', () => {
    assert.deepEqual(parseFilter('(cn=\\C3\\A9\\c3\\a9)'), eq('cn', 'éé'));
  });
});

describe('parseFilter: bad filters throw FilterError', () => {
  const bad = [
    '(cn=a',
    'cn=a',
    '(cn=\\zz)',
    '(&(cn=a)x)',
    '((cn=a))',
    '',
    '()',
    '(cn=a))',
    '(cn=a)(cn=b)',
    '(cn=a\\)',
    '(cn=a\\2)',
    '(cn=a**b)',
    '(=a)',
    '(c n=a)',
    '(!)',
    '(!(cn=a)(cn=b))',
    '(&',
    '(:=x)',
    '(cn:1.2.3:dn:=x)',
    '(cn)',
    ' (cn=a)',
  ];
  for (const text of bad) {
    test(JSON.stringify(text), () => assert.throws(() => parseFilter(text), FilterError));
  }
  test('depth and size limits', () => {
    const deep = '(!'.repeat(40) + '(cn=a)' + ')'.repeat(40);
    assert.throws(() => parseFilter(deep), FilterError);
    assert.doesNotThrow(() => parseFilter(deep, { maxDepth: 64, maxElements: 1024 }));
    const wide = '(|' + '(cn=a)'.repeat(2000) + ')';
    assert.throws(() => parseFilter(wide), FilterError);
  });
});

// ---------------------------------------------------------------- round trips

// Characters that stress escaping: the RFC 4515 specials, NUL, non-ASCII, astral planes.
const NASTY = fc.constantFrom('a', 'Z', ' ', '*', '(', ')', '\\', '\0', '=', ':', '&', '|', '!', '~', '<', '>', 'é', 'ß', 'İ', '日', '🎉', '𝔘', '\u212a', '%', '_', "'", '"');
const valueArb = fc.oneof(fc.string({ unit: NASTY, maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const nonEmptyValue = valueArb.filter((s) => s.length > 0);
const attrArb = fc.constantFrom('cn', 'uid', 'mail', 'objectClass', 'givenName', 'djangoId', 'memberOf', '2.5.4.3', 'cn;lang-en', 'x-custom', 'sn');

/** Filters exactly as parseFilter produces them (substring parts non-empty, ext keys present). */
const parsedFilterArb = fc.letrec((tie) => ({
  filter: fc.oneof({ maxDepth: 4, depthIdentifier: 'f' }, tie('leaf'), tie('and'), tie('or'), tie('not')),
  and: fc.array(tie('filter'), { maxLength: 3, depthIdentifier: 'f' }).map((filters) => ({ type: 'and', filters })),
  or: fc.array(tie('filter'), { maxLength: 3, depthIdentifier: 'f' }).map((filters) => ({ type: 'or', filters })),
  not: tie('filter').map((filter) => ({ type: 'not', filter })),
  leaf: fc.oneof(
    fc.tuple(fc.constantFrom('eq', 'ge', 'le', 'approx'), attrArb, valueArb).map(([type, attr, value]) => ({ type, attr, value })),
    attrArb.map((attr) => ({ type: 'present', attr })),
    fc
      .tuple(attrArb, fc.option(nonEmptyValue, { nil: undefined }), fc.array(nonEmptyValue, { maxLength: 3 }), fc.option(nonEmptyValue, { nil: undefined }))
      .filter(([, initial, any, final]) => initial !== undefined || any.length > 0 || final !== undefined) // (cn=*) is present
      .map(([attr, initial, any, final]) => {
        const f = { type: 'substr', attr, any };
        if (initial !== undefined) f.initial = initial;
        if (final !== undefined) f.final = final;
        return f;
      }),
    fc
      .tuple(fc.option(attrArb, { nil: undefined }), fc.option(fc.constantFrom('caseExactMatch', '2.5.13.2', '1.2.3'), { nil: undefined }), valueArb, fc.boolean())
      .filter(([attr, rule]) => attr !== undefined || rule !== undefined)
      .map(([attr, rule, value, dnAttrs]) => ({ type: 'ext', attr, rule, value, dnAttrs })),
  ),
})).filter;

describe('round trips', () => {
  test('property: parseFilter(filterToString(f)) deep-equals f', () => {
    fc.assert(
      fc.property(parsedFilterArb, (f) => {
        assert.deepEqual(parseFilter(filterToString(f)), f);
      }),
      { numRuns: 2000 },
    );
  });
  test('property: filterToString(parseFilter(s)) is a fixed point', () => {
    fc.assert(
      fc.property(parsedFilterArb, (f) => {
        const s = filterToString(f);
        assert.equal(filterToString(parseFilter(s)), s);
      }),
      { numRuns: 500 },
    );
  });
  test('escapeFilterValue escapes exactly * ( ) \\ NUL', () => {
    assert.equal(escapeFilterValue('a*b(c)d\\e\0f'), 'a\\2ab\\28c\\29d\\5ce\\00f');
    assert.equal(escapeFilterValue('é 🎉 = : ~'), 'é 🎉 = : ~');
  });
  test('filterToString of representative filters', () => {
    assert.equal(filterToString(parseFilter('(&(objectclass=*)(uid=alice))')), '(&(objectclass=*)(uid=alice))');
    assert.equal(filterToString(parseFilter('(cn=Babs J\\2a)')), '(cn=Babs J\\2a)');
    assert.equal(filterToString(parseFilter('(:DN:2.4.6.8.10:=Dino)')), '(:dn:2.4.6.8.10:=Dino)');
    assert.equal(filterToString(parseFilter('(o=univ*of*mich*)')), '(o=univ*of*mich*)');
  });
});

// ---------------------------------------------------------------- BER (ldapjs's encoder)

/** Our AST as an @ldapjs/filter object built with its constructors (raw values, no escaping). */
function toLdapjs(f) {
  const L = ldapjsFilter;
  switch (f.type) {
    case 'and':
      return new L.AndFilter({ filters: f.filters.map(toLdapjs) });
    case 'or':
      return new L.OrFilter({ filters: f.filters.map(toLdapjs) });
    case 'not':
      return new L.NotFilter({ filter: toLdapjs(f.filter) });
    case 'eq':
      // EqualityFilter refuses value '' but takes an empty raw buffer.
      return f.value === '' ? new L.EqualityFilter({ attribute: f.attr, raw: Buffer.alloc(0) }) : new L.EqualityFilter({ attribute: f.attr, value: f.value });
    case 'ge':
      return new L.GreaterThanEqualsFilter({ attribute: f.attr, value: f.value });
    case 'le':
      return new L.LessThanEqualsFilter({ attribute: f.attr, value: f.value });
    case 'approx':
      return new L.ApproximateFilter({ attribute: f.attr, value: f.value });
    case 'present':
      return new L.PresenceFilter({ attribute: f.attr });
    case 'substr':
      return new L.SubstringFilter({ attribute: f.attr, initial: f.initial, any: f.any, final: f.final });
    case 'ext':
      return new L.ExtensibleFilter({ matchType: f.attr, rule: f.rule, value: f.value, dnAttributes: f.dnAttrs });
  }
}

const ber = (ldapjsObject) => ldapjsObject.toBer().buffer;
const decode = (buf) => readFilter(new BerReader(buf));

describe('readFilter over BER from ldapjs', () => {
  // Filters whose string form @ldapjs/filter's parseString encodes faithfully (no escapes,
  // no non-ASCII substrings).
  const viaParseString = [
    '(cn=Babs Jensen)',
    '(!(cn=Tim Howes))',
    '(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))',
    '(o=univ*of*mich*)',
    '(cn:caseExactMatch:=Fred Flintstone)',
    '(cn:=Betty Rubble)',
    '(sn:dn:2.4.6.8.10:=Barney Rubble)',
    '(o:dn:=Ace Industry)',
    '(:1.2.3:=Wilma Flintstone)',
    '(:DN:2.4.6.8.10:=Dino)',
    '(&(objectclass=*)(uid=alice))',
    '(&)',
    '(djangoId>=10)',
    '(djangoId<=10)',
    '(cn~=bab)',
    '(cn=*x)',
    '(cn=日本🎉)',
    '(|(uid=alice)(mail=alice@example.com)(!(djangoIsActive=FALSE)))',
  ];
  for (const text of viaParseString) {
    test(`ldapjs parseString ${text}`, () => {
      assert.deepEqual(norm(decode(ber(ldapjsFilter.parseString(text)))), norm(parseFilter(text)));
    });
  }

  // @ldapjs/filter's parseString (2.1.1) puts escapes on the wire verbatim: "(cn=Babs J\2a)"
  // is sent as the 9 characters `Babs J\2a`, and non-ASCII substring parts are sent as
  // `\c3\a9`. Its constructors take raw values; those are what our parser must agree with.
  const escaped = [
    ['(cn=Babs J\\2a)', new ldapjsFilter.EqualityFilter({ attribute: 'cn', value: 'Babs J*' })],
    ['(o=Parens R Us \\28for all your parenthetical needs\\29)', new ldapjsFilter.EqualityFilter({ attribute: 'o', value: 'Parens R Us (for all your parenthetical needs)' })],
    ['(sn=Lu\\c4\\8di\\c4\\87)', new ldapjsFilter.EqualityFilter({ attribute: 'sn', value: 'Lučić' })],
    ['(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)', new ldapjsFilter.EqualityFilter({ attribute: '1.3.6.1.4.1.1466.0', raw: Buffer.from([0x04, 0x02, 0x48, 0x69]) })],
    ['(filename=C:\\5cMyFile)', new ldapjsFilter.EqualityFilter({ attribute: 'filename', value: 'C:\\MyFile' })],
    ['(cn=*\\2A*)', new ldapjsFilter.SubstringFilter({ attribute: 'cn', any: ['*'] })],
    ['(cn=é*ü)', new ldapjsFilter.SubstringFilter({ attribute: 'cn', initial: 'é', final: 'ü' })],
    ['(seeAlso=)', new ldapjsFilter.EqualityFilter({ attribute: 'seeAlso', raw: Buffer.alloc(0) })],
    ['(cn:caseExactMatch:=\\28x\\29)', new ldapjsFilter.ExtensibleFilter({ matchType: 'cn', rule: 'caseExactMatch', value: '(x)' })],
  ];
  for (const [text, obj] of escaped) {
    test(`ldapjs constructor for ${text}`, () => {
      assert.deepEqual(norm(decode(ber(obj))), norm(parseFilter(text)));
    });
  }

  test('what ldapjs parseString puts on the wire is decoded byte for byte', () => {
    assert.deepEqual(decode(ber(ldapjsFilter.parseString('(cn=Babs J\\2a)'))), eq('cn', 'Babs J\\2a'));
  });

  test('property: any filter encoded by ldapjs decodes to the same AST', () => {
    // ldapjs's ordering/approx constructors refuse empty values; its substring encoder drops
    // empty parts (which parseFilter never produces).
    const ok = (f) => {
      if (f.type === 'and' || f.type === 'or') return f.filters.every(ok);
      if (f.type === 'not') return ok(f.filter);
      if (f.type === 'ge' || f.type === 'le' || f.type === 'approx') return f.value !== '';
      return true;
    };
    fc.assert(
      fc.property(parsedFilterArb.filter(ok), (f) => {
        assert.deepEqual(norm(decode(ber(toLdapjs(f)))), norm(f));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('readFilter: malformed BER', () => {
  const eqItem = tlv(0xa3, [octets('cn'), octets('a')]);
  test('unknown tag', () => assert.throws(() => decode(tlv(0xaa, [octets('x')])), BerError));
  test('not with two filters', () => assert.throws(() => decode(tlv(0xa2, [eqItem, eqItem])), BerError));
  test('substrings without parts', () => assert.throws(() => decode(tlv(0xa4, [octets('cn'), sequence([])])), BerError));
  test('initial after any', () => assert.throws(() => decode(tlv(0xa4, [octets('cn'), sequence([tlv(0x81, Buffer.from('a')), tlv(0x80, Buffer.from('b'))])])), BerError));
  test('any after final', () => assert.throws(() => decode(tlv(0xa4, [octets('cn'), sequence([tlv(0x82, Buffer.from('a')), tlv(0x81, Buffer.from('b'))])])), BerError));
  test('extensible without value or without type and rule', () => {
    assert.throws(() => decode(tlv(0xa9, [tlv(0x82, Buffer.from('cn'))])), BerError);
    assert.throws(() => decode(tlv(0xa9, [tlv(0x83, Buffer.from('x'))])), BerError);
  });
  test('truncated element', () => assert.throws(() => decode(eqItem.subarray(0, eqItem.length - 1)), BerError));
  test('depth and element limits', () => {
    let f = eqItem;
    for (let i = 0; i < 40; i++) f = tlv(0xa2, [f]);
    assert.throws(() => decode(f), BerError);
    const wide = tlv(0xa1, Array.from({ length: 2000 }, () => eqItem));
    assert.throws(() => decode(wide), BerError);
  });
  test('empty substring parts from BER are kept as sent', () => {
    const f = decode(tlv(0xa4, [octets('cn'), sequence([tlv(0x80, Buffer.alloc(0))])]));
    assert.deepEqual(f, { type: 'substr', attr: 'cn', any: [], initial: '' });
  });
});

// ---------------------------------------------------------------- evaluate

const TREE = { baseDn: 'dc=example,dc=com', usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services' };
function contextFor(caseInsensitiveUsernames) {
  const dit = new Dit(TREE, caseInsensitiveUsernames);
  return { dit, ctx: new BridgeContext({ caseInsensitiveUsernames }, dit, undefined, undefined, [], 'test') };
}
const { dit, ctx } = contextFor(false);
const { ctx: ctxCi } = contextFor(true);

const alice = userEntry(
  dit,
  { id: 7, username: 'alice', password: '', isActive: true, isStaff: false, isSuperuser: false, firstName: 'Alice', lastName: 'Liddell', email: 'Alice@Example.com', dateJoined: new Date('2021-03-01T12:34:56Z'), lastLogin: null },
  { groups: [{ id: 1, name: 'Secret-Agents' }], permissions: [{ id: 3, appLabel: 'auth', codename: 'view_user', name: 'Can view user' }], roles: [] },
);
const group = groupEntry(dit, { id: 2, name: 'C++ Developers' }, ['alice', 'Frank'], []);
const run = (text, entry = alice, c = ctx) => evaluate(parseFilter(text), entry, c);
const NAMES = { [TRUE]: 'TRUE', [FALSE]: 'FALSE', [UNDEFINED]: 'UNDEFINED' };
const name = (v) => NAMES[v];

describe('evaluate: three-valued logic (RFC 4511 §4.5.1.7)', () => {
  // One filter of each truth value for alice.
  const atoms = { [TRUE]: '(cn=Alice Liddell)', [FALSE]: '(cn=bob)', [UNDEFINED]: '(noSuchAttribute=x)' };
  test('atoms', () => {
    for (const [v, text] of Object.entries(atoms)) assert.equal(name(run(text)), name(Number(v)));
  });
  const and = (a, b) => (a === FALSE || b === FALSE ? FALSE : a === UNDEFINED || b === UNDEFINED ? UNDEFINED : TRUE);
  const or = (a, b) => (a === TRUE || b === TRUE ? TRUE : a === UNDEFINED || b === UNDEFINED ? UNDEFINED : FALSE);
  const not = (a) => (a === UNDEFINED ? UNDEFINED : a === TRUE ? FALSE : TRUE);
  for (const a of [TRUE, FALSE, UNDEFINED]) {
    test(`NOT ${name(a)} = ${name(not(a))}`, () => assert.equal(name(run(`(!${atoms[a]})`)), name(not(a))));
    for (const b of [TRUE, FALSE, UNDEFINED]) {
      test(`${name(a)} AND ${name(b)} = ${name(and(a, b))}`, () => assert.equal(name(run(`(&${atoms[a]}${atoms[b]})`)), name(and(a, b))));
      test(`${name(a)} OR ${name(b)} = ${name(or(a, b))}`, () => assert.equal(name(run(`(|${atoms[a]}${atoms[b]})`)), name(or(a, b))));
    }
  }
  test('absolute true and false', () => {
    assert.equal(run('(&)'), TRUE);
    assert.equal(run('(|)'), FALSE);
    assert.equal(run('(!(&))'), FALSE);
    assert.equal(run('(!(|))'), TRUE);
  });
  test('Undefined survives NOT for unknown attributes, and is never a match', () => {
    for (const text of ['(!(noSuchAttribute=x))', '(!(!(noSuchAttribute=x)))', '(!(noSuchAttribute>=x))', '(!(noSuchAttribute=*x*))', '(!(noSuchAttribute~=x))', '(!(noSuchAttribute:=x))']) {
      assert.equal(name(run(text)), 'UNDEFINED', text);
    }
    // present is two-valued: an unknown attribute is simply absent
    assert.equal(run('(noSuchAttribute=*)'), FALSE);
    assert.equal(run('(!(noSuchAttribute=*))'), TRUE);
  });
  test('Undefined for invalid assertion values and missing matching rules', () => {
    for (const text of [
      '(djangoIsStaff=maybe)',
      '(djangoId=seven)',
      '(djangoId>=seven)',
      '(memberOf=not a dn)',
      '(djangoIsStaff>=TRUE)', // booleanMatch has no ordering
      '(memberOf<=cn=x)', // nor does distinguishedNameMatch
      '(djangoId=*7*)', // integerMatch has no substring rule
      '(objectClass=*son*)',
      '(cn:1.2.3.4:=Alice Liddell)', // unknown matching rule
    ]) {
      assert.equal(name(run(text)), 'UNDEFINED', text);
      assert.equal(name(run(`(!${text})`)), 'UNDEFINED', `(!${text})`);
    }
  });
  test('a missing rule is Undefined whether or not the entry holds the attribute', () => {
    // The group entry has no djangoIsStaff, djangoLastLogin or memberOf at all.
    for (const text of ['(djangoIsStaff>=TRUE)', '(djangoIsStaff<=FALSE)', '(memberOf>=cn=x)', '(djangoId=*2*)', '(djangoIsStaff=*T*)', '(djangoLastLogin>=bad)']) {
      assert.equal(name(run(text, group)), 'UNDEFINED', text);
      assert.equal(name(run(`(!${text})`, group)), 'UNDEFINED', `(!${text})`);
    }
  });
});

describe('evaluate: matching rules', () => {
  test('objectClass: present always, names and OIDs, any case', () => {
    assert.equal(run('(objectClass=*)'), TRUE);
    assert.equal(run('(objectclass=inetOrgPerson)'), TRUE);
    assert.equal(run('(objectClass=INETORGPERSON)'), TRUE);
    assert.equal(run('(objectClass=2.5.6.6)'), TRUE); // person
    assert.equal(run('(objectClass=groupOfNames)'), FALSE);
    assert.equal(run('(objectClass=groupOfNames)', group), TRUE);
  });
  test('uid follows the username setting; cn, mail, givenName ignore case', () => {
    assert.equal(run('(uid=alice)'), TRUE);
    assert.equal(run('(uid=Alice)'), FALSE);
    assert.equal(run('(uid=Alice)', alice, ctxCi), TRUE);
    assert.equal(run('(uid=ALI*)'), FALSE);
    assert.equal(run('(uid=ALI*)', alice, ctxCi), TRUE);
    assert.equal(run('(userid=alice)'), TRUE); // alias
    assert.equal(run('(0.9.2342.19200300.100.1.1=alice)'), TRUE); // OID
    assert.equal(run('(mail=alice@example.COM)'), TRUE);
    assert.equal(run('(cn=ALICE LIDDELL)'), TRUE);
    assert.equal(run('(gn=alice)'), TRUE);
    assert.equal(run('(givenName;lang-en=alice)'), TRUE); // options dropped
  });
  test('substrings', () => {
    assert.equal(run('(cn=al*)'), TRUE);
    assert.equal(run('(cn=*DELL)'), TRUE);
    assert.equal(run('(cn=a*i*e*l)'), TRUE);
    assert.equal(run('(cn=*ce*li*)'), TRUE);
    assert.equal(run('(cn=*dell*ce*)'), FALSE);
    assert.equal(run('(cn=alice*alice)'), FALSE); // initial and final may not overlap
    assert.equal(run('(sn=L*l*l*l)'), FALSE);
    assert.equal(run('(sn=L*d*l)'), TRUE);
  });
  test('integers, booleans, ordering', () => {
    assert.equal(run('(djangoId=7)'), TRUE);
    assert.equal(run('(djangoId=007)'), TRUE);
    assert.equal(run('(djangoId=-0)'), FALSE);
    assert.equal(run('(djangoId>=7)'), TRUE);
    assert.equal(run('(djangoId>=10)'), FALSE); // numeric, not "7" >= "10" as text
    assert.equal(run('(djangoId<=10)'), TRUE);
    assert.equal(run('(djangoIsActive=TRUE)'), TRUE);
    assert.equal(run('(djangoIsStaff=FALSE)'), TRUE);
    assert.equal(name(run('(djangoIsStaff=false)')), 'UNDEFINED'); // booleans are upper case
    assert.equal(run('(cn>=Alice)'), TRUE);
    assert.equal(run('(cn<=Alice)'), FALSE);
  });
  test('memberOf and member compare as DNs', () => {
    assert.equal(run('(memberOf=CN=secret-agents,OU=Groups,DC=Example,DC=Com)'), TRUE);
    assert.equal(run('(memberOf=cn=Secret-Agents, ou=groups, dc=example, dc=com)'), TRUE);
    assert.equal(run('(memberOf=cn=auth.view_user,ou=permissions,dc=example,dc=com)'), TRUE);
    assert.equal(run('(member=uid=alice,ou=users,dc=example,dc=com)', group), TRUE);
    assert.equal(run('(member=uid=ALICE,ou=users,dc=example,dc=com)', group), FALSE); // uid is case-exact in DNs
    assert.equal(run('(memberUid=frank)', group), FALSE);
    assert.equal(run('(memberUid=Frank)', group), TRUE);
  });
  test('extensible match', () => {
    assert.equal(run('(cn:caseExactMatch:=alice liddell)'), FALSE);
    assert.equal(run('(cn:caseExactMatch:=Alice Liddell)'), TRUE);
    assert.equal(run('(cn:=alice liddell)'), TRUE);
    assert.equal(run('(uid:2.5.13.2:=ALICE)'), TRUE); // caseIgnoreMatch by OID
    assert.equal(run('(ou:dn:=USERS)'), TRUE); // from the DN
    assert.equal(run('(ou:=users)'), FALSE); // not without :dn
    assert.equal(run('(:dn:2.5.13.2:=EXAMPLE)'), TRUE);
    assert.equal(run('(:DN:caseExactMatch:=EXAMPLE)'), FALSE);
    assert.equal(run('(uid:dn:=alice)'), TRUE);
  });
  test('an Entry without a value never matches an empty assertion', () => {
    const e = new Entry('cn=x,dc=example,dc=com').set('cn', ['x']).set('description', ['']);
    assert.equal(run('(description=)', e), FALSE);
    assert.equal(run('(description=*)', e), FALSE);
  });
});

describe('evaluate: long assertion values (remembered once normalised)', () => {
  test('the same long value decides by each rule and each username mode, over and over', () => {
    const long = 'x'.repeat(300);
    const userLong = userEntry(
      dit,
      { id: 8, username: `Bob${long}`, password: '', isActive: true, isStaff: false, isSuperuser: false, firstName: 'B', lastName: 'L', email: '', dateJoined: null, lastLogin: null },
      { groups: [], permissions: [], roles: [] },
    );
    const member = (u) => `uid=${u},ou=users,dc=example,dc=com`;
    const g = groupEntry(dit, { id: 3, name: 'long' }, [`Bob${long}`], []);
    for (let i = 0; i < 3; i++) {
      assert.equal(name(run(`(member=${member(`Bob${long}`)})`, g)), 'TRUE');
      assert.equal(name(run(`(member=${member(`bob${long}`)})`, g)), 'FALSE', 'uid is case-exact by default');
      assert.equal(name(run(`(member=${member(`bob${long}`)})`, g, ctxCi)), 'TRUE', 'case-insensitive usernames');
      assert.equal(name(run(`(uid=bob${long})`, userLong)), 'FALSE');
      assert.equal(name(run(`(uid:caseIgnoreMatch:=bob${long})`, userLong)), 'TRUE');
      assert.equal(name(run(`(uid=Bob${long})`, userLong)), 'TRUE');
    }
  });
});
