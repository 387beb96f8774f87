// Tests for src/ldap/dn.ts (RFC 4514 distinguished names). Runs against the compiled dist/.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseDn, formatDn, escapeDnValue, normalizeDn, isDescendantOrSelf, depthBelow, InvalidDnError,
} from '../../../dist/ldap/dn.js';

const cn = (value) => [[{ type: 'cn', value }]];
const roundTrip = (value) => parseDn(formatDn(cn(value)))[0][0].value;

const HOSTILE = [
  'C++ Developers',
  "Smith, John's team",
  ' leading space',
  'trailing space ',
  '  both  ',
  '#hash',
  'a=b+c;<d>"e"\\f',
  'back\\slash',
  'Ünïcödé',
  '日本語',
  'emoji 🎉',
  '   ',
  ' ',
  '',
  'nul\0inside',
  '\\',
  '\\20',
  '#',
  'a#b',
  '"quoted"',
  'tab\tand\nnewline',
];

describe('round trips', () => {
  for (const v of HOSTILE) {
    test(`value ${JSON.stringify(v)}`, () => {
      assert.equal(roundTrip(v), v);
      // and inside a longer DN, next to other RDNs and in a multi-valued RDN
      const rdns = [[{ type: 'cn', value: v }, { type: 'ou', value: v }], [{ type: 'dc', value: v }], [{ type: 'dc', value: 'com' }]];
      assert.deepEqual(parseDn(formatDn(rdns)), rdns);
    });
  }

  test('empty value formats as cn= and parses back', () => {
    assert.equal(formatDn(cn('')), 'cn=');
    assert.deepEqual(parseDn('cn='), cn(''));
    assert.deepEqual(parseDn('cn=,dc=x'), [[{ type: 'cn', value: '' }], [{ type: 'dc', value: 'x' }]]);
    assert.deepEqual(parseDn('cn=+sn=,dc=x'), [[{ type: 'cn', value: '' }, { type: 'sn', value: '' }], [{ type: 'dc', value: 'x' }]]);
  });

  test('formatDn of [] is the empty DN, parseDn of the empty DN is []', () => {
    assert.equal(formatDn([]), '');
    assert.deepEqual(parseDn(''), []);
  });

  test('property: any unicode string survives format then parse', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (v) => roundTrip(v) === v), { numRuns: 2000 });
    // code units, so lone surrogates too
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), (v) => roundTrip(v) === v), { numRuns: 1000 });
    // strings dense in the characters that matter
    const nasty = fc.constantFrom(' ', '#', ',', '+', '"', '\\', '<', '>', ';', '=', '\0', 'a', 'é', '🎉', '2', 'C');
    fc.assert(fc.property(fc.string({ unit: nasty }), (v) => roundTrip(v) === v), { numRuns: 2000 });
  });

  test('property: escaped values normalise consistently', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (v) => {
      const key = normalizeDn(cn(v));
      return normalizeDn(parseDn(key)) === key;
    }), { numRuns: 1000 });
  });
});

describe('escapeDnValue', () => {
  test('specials, leading/trailing, NUL', () => {
    assert.equal(escapeDnValue('a=b+c;<d>"e"\\f'), 'a\\=b\\+c\\;\\<d\\>\\"e\\"\\\\f');
    assert.equal(escapeDnValue('Smith, John'), 'Smith\\, John');
    assert.equal(escapeDnValue('  both  '), '\\  both \\ ');
    assert.equal(escapeDnValue(' '), '\\ ');
    assert.equal(escapeDnValue('   '), '\\  \\ ');
    assert.equal(escapeDnValue('#hash'), '\\#hash');
    assert.equal(escapeDnValue('a#b'), 'a#b');
    assert.equal(escapeDnValue('nul\0'), 'nul\\00');
  });

  test('non-ASCII stays as characters; plain values are returned unchanged', () => {
    assert.equal(escapeDnValue('Ünïcödé 日本語 🎉'), 'Ünïcödé 日本語 🎉');
    assert.equal(escapeDnValue('alice'), 'alice');
    assert.equal(escapeDnValue(''), '');
  });
});

describe('parseDn', () => {
  test('basic, types as written, spaces around separators tolerated', () => {
    assert.deepEqual(parseDn('uid=alice,ou=People,dc=example,dc=com'), [
      [{ type: 'uid', value: 'alice' }], [{ type: 'ou', value: 'People' }],
      [{ type: 'dc', value: 'example' }], [{ type: 'dc', value: 'com' }],
    ]);
    assert.deepEqual(parseDn(' cn = a  b ,  dc = x  '), [[{ type: 'cn', value: 'a  b' }], [{ type: 'dc', value: 'x' }]]);
    assert.deepEqual(parseDn('cn=a + sn=b ; dc=x'), [[{ type: 'cn', value: 'a' }, { type: 'sn', value: 'b' }], [{ type: 'dc', value: 'x' }]]);
    assert.deepEqual(parseDn('2.5.4.3=x'), [[{ type: '2.5.4.3', value: 'x' }]]);
    assert.deepEqual(parseDn('OID.2.5.4.3=x'), [[{ type: '2.5.4.3', value: 'x' }]], 'RFC 2253 OID. prefix dropped');
    assert.deepEqual(parseDn('x-my-attr9=v'), [[{ type: 'x-my-attr9', value: 'v' }]]);
  });

  test('unescaped trailing spaces dropped, escaped ones kept', () => {
    assert.equal(parseDn('cn=a  ')[0][0].value, 'a');
    assert.equal(parseDn('cn=a\\ ')[0][0].value, 'a ');
    assert.equal(parseDn('cn=a\\  ,dc=x')[0][0].value, 'a ');
    assert.equal(parseDn('cn=a\\20')[0][0].value, 'a ');
    assert.equal(parseDn('cn=\\ a')[0][0].value, ' a');
    assert.equal(parseDn('cn=  \\ a')[0][0].value, ' a');
    assert.equal(parseDn('cn=\\20\\20both\\20\\20')[0][0].value, '  both  ');
    assert.equal(parseDn('cn=a \\ b')[0][0].value, 'a  b', 'spaces before an escape are internal');
    assert.equal(parseDn('cn=\\  \\ ')[0][0].value, '   ');
    assert.equal(parseDn('cn=   ')[0][0].value, '', 'unescaped spaces only: empty value');
  });

  test('escaped specials', () => {
    assert.equal(parseDn('cn=\\,\\+\\"\\\\\\<\\>\\;\\=\\#\\ ')[0][0].value, ',+"\\<>;=# ');
    assert.equal(parseDn('cn=\\#hash')[0][0].value, '#hash');
    assert.equal(parseDn('cn=a#b=c<d>')[0][0].value, 'a#b=c<d>', "unambiguous '#', '=', '<', '>' accepted unescaped mid-value");
  });

  test('hex escapes form UTF-8', () => {
    assert.equal(parseDn('cn=\\C3\\A9')[0][0].value, 'é');
    assert.equal(parseDn('cn=caf\\c3\\a9!')[0][0].value, 'café!', 'lower-case hex');
    assert.equal(parseDn('cn=\\E6\\97\\A5\\E6\\9C\\AC')[0][0].value, '日本');
    assert.equal(parseDn('cn=\\F0\\9F\\8E\\89')[0][0].value, '🎉');
    assert.equal(parseDn('cn=\\2C\\2b\\5C\\00')[0][0].value, ',+\\\0');
    assert.equal(parseDn('cn=\\EF\\BB\\BFx')[0][0].value, '\uFEFFx', 'a BOM is a character, not dropped');
    assert.equal(parseDn('cn=\\C3\\A9\\,\\C3\\A9')[0][0].value, 'é,é');
  });

  test("'#' BER values", () => {
    assert.equal(parseDn('cn=#0C03616263')[0][0].value, 'abc', 'UTF8String');
    assert.equal(parseDn('cn=#0c02c3a9')[0][0].value, 'é', 'UTF8String, lower-case hex');
    assert.equal(parseDn('cn=#130548656c6c6f')[0][0].value, 'Hello', 'PrintableString');
    assert.equal(parseDn('cn=#1603614062')[0][0].value, 'a@b', 'IA5String');
    assert.equal(parseDn('cn=#04024869  ,dc=x')[0][0].value, 'Hi', 'OCTET STRING, trailing spaces');
    assert.equal(parseDn('cn=#0c00')[0][0].value, '', 'empty UTF8String');
    const long = 'x'.repeat(200);
    assert.equal(parseDn('cn=#0c81c8' + Buffer.from(long).toString('hex'))[0][0].value, long, 'long-form length');
  });

  test('RFC 2253 quoted values', () => {
    assert.deepEqual(parseDn('cn="Smith, John+Co; <x>" , dc=x'), [[{ type: 'cn', value: 'Smith, John+Co; <x>' }], [{ type: 'dc', value: 'x' }]]);
    assert.equal(parseDn('cn=" a \\" b "')[0][0].value, ' a " b ');
    assert.equal(parseDn('cn=""')[0][0].value, '');
  });

  test('RFC 4514 §4 examples', () => {
    assert.deepEqual(parseDn('UID=jsmith,DC=example,DC=net'), [
      [{ type: 'UID', value: 'jsmith' }], [{ type: 'DC', value: 'example' }], [{ type: 'DC', value: 'net' }],
    ]);
    assert.deepEqual(parseDn('OU=Sales+CN=J.  Smith,DC=example,DC=net'), [
      [{ type: 'OU', value: 'Sales' }, { type: 'CN', value: 'J.  Smith' }], [{ type: 'DC', value: 'example' }], [{ type: 'DC', value: 'net' }],
    ]);
    assert.deepEqual(parseDn('CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net'), [
      [{ type: 'CN', value: 'James "Jim" Smith, III' }], [{ type: 'DC', value: 'example' }], [{ type: 'DC', value: 'net' }],
    ]);
    assert.deepEqual(parseDn('CN=Before\\0dAfter,DC=example,DC=net')[0], [{ type: 'CN', value: 'Before\rAfter' }]);
    assert.deepEqual(parseDn('1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com')[0], [{ type: '1.3.6.1.4.1.1466.0', value: 'Hi' }]);
    assert.deepEqual(parseDn('CN=Lu\\C4\\8Di\\C4\\87'), [[{ type: 'CN', value: 'Lučić' }]]);
  });

  const INVALID = [
    ['cn', /missing '='/],
    ['=x', /empty attribute type/],
    ['cn=a,', /missing attribute type/],
    ['cn=a+', /missing attribute type/],
    [',cn=a', /attribute type/],
    ['cn=a,,dc=x', /attribute type/],
    ['cn=\\zz', /invalid escape/],
    ['cn=\\7', /unterminated|hex/],
    ['cn=\\4g', /two hex digits/],
    ['cn=a\\', /unterminated escape/],
    ['cn=\\C3', /UTF-8/],
    ['cn=\\C3abc', /UTF-8/],
    ['cn=\\C3\\28', /UTF-8/],
    ['cn=\\FF\\FE', /UTF-8/],
    ['cn=\\C0\\AF', /UTF-8/, 'overlong'],
    ['cn=\\ED\\A0\\80', /UTF-8/, 'encoded surrogate'],
    ['cn=\\C3\\,', /UTF-8/],
    ['cn=a"b', /unescaped '"'/],
    ['cn=a\0b', /NUL/],
    ['cn="abc', /unterminated quoted/],
    ['cn="abc"d', /after closing quote/],
    ['cn=#', /hex digits/],
    ['cn=#0', /odd number/],
    ['cn=#zz', /hex digits/],
    ['cn=#0c0161x', /after '#'/],
    ['cn=#0c02', /length/],
    ['cn=#0c0361', /length/],
    ['cn=#0c8000', /indefinite/],
    ['cn=#020101', /unsupported BER tag 0x02/],
    ['cn=#1301ff', /PrintableString/],
    ['cn=#130140', /PrintableString/],
    ['cn=#160180', /IA5String/],
    ['cn=#0c01ff', /UTF-8/],
    ['c n=x', /expected '='/],
    ['cn:x', /expected '='/],
    ['1cn=x', /numeric OID/],
    ['2=x', /two arcs/],
    ['2.5.=x', /empty arc/],
    ['2..5=x', /empty arc/],
    ['01.5=x', /leading zero/],
    ['_cn=x', /attribute type should start/],
    ['cn=a+CN=b', /appears twice/],
    ['cn=a+2.5.4.3=b', /appears twice/],
  ];
  for (const [dn, re, note] of INVALID) {
    test(`invalid: ${JSON.stringify(dn)}${note ? ` (${note})` : ''}`, () => {
      assert.throws(() => parseDn(dn), (e) => {
        assert.ok(e instanceof InvalidDnError, `expected InvalidDnError, got ${e}`);
        assert.ok(e instanceof Error);
        assert.equal(e.name, 'InvalidDnError');
        assert.match(e.message, re);
        assert.ok(e.message.includes(JSON.stringify(dn)), 'message names the DN');
        assert.equal(typeof e.position, 'number');
        return true;
      });
    });
  }

  test('error messages cut huge DNs short', () => {
    const dn = 'cn=' + 'a'.repeat(10000) + '\\';
    assert.throws(() => parseDn(dn), (e) => e instanceof InvalidDnError && e.message.length < 400);
  });

  test('non-string input is a TypeError', () => {
    assert.throws(() => parseDn(undefined), TypeError);
  });
});

describe('formatDn', () => {
  test('types as given, RDNs and AVAs joined', () => {
    assert.equal(formatDn([[{ type: 'CN', value: 'C++ Developers' }, { type: 'ou', value: 'x' }], [{ type: 'dc', value: 'example' }]]),
      'CN=C\\+\\+ Developers+ou=x,dc=example');
  });

  test('refuses to build DNs that would not parse back', () => {
    assert.throws(() => formatDn([[{ type: 'c,n', value: 'x' }]]), InvalidDnError);
    assert.throws(() => formatDn([[{ type: '', value: 'x' }]]), InvalidDnError);
    assert.throws(() => formatDn([[{ type: 'cn=x', value: 'x' }]]), InvalidDnError);
    assert.throws(() => formatDn([[{ type: '2.5.', value: 'x' }]]), InvalidDnError);
    assert.throws(() => formatDn([[{ type: '25', value: 'x' }]]), InvalidDnError);
    assert.throws(() => formatDn([[]]), InvalidDnError);
    assert.equal(formatDn([[{ type: '2.5.4.3', value: 'x' }]]), '2.5.4.3=x');
  });
});

describe('normalizeDn', () => {
  const same = (a, b, opts) => assert.equal(normalizeDn(a, opts), normalizeDn(b, opts), `${a} vs ${b}`);
  const differ = (a, b, opts) => assert.notEqual(normalizeDn(a, opts), normalizeDn(b, opts), `${a} vs ${b}`);

  test('canonical form', () => {
    assert.equal(normalizeDn('UID=Alice , OU=People,DC=Example,DC=COM'), 'uid=alice,ou=people,dc=example,dc=com');
    assert.equal(normalizeDn(''), '');
    assert.equal(normalizeDn([]), '');
    assert.equal(normalizeDn('CN=Smith\\, John,dc=x'), 'cn=smith\\, john,dc=x');
  });

  test('case, spaces, OIDs and long names', () => {
    same('cn=Foo Bar,dc=Example', 'CN=foo bar,DC=example');
    same('cn=Foo Bar', 'cn=  foo    bar  ');
    same('cn=Foo Bar', 'cn=\\20foo\\20\\20bar\\20');
    same('cn=x,ou=y,dc=z,o=o,c=c,l=l,st=s,uid=u',
      '2.5.4.3=X,2.5.4.11=Y,0.9.2342.19200300.100.1.25=Z,2.5.4.10=O,2.5.4.6=C,2.5.4.7=L,2.5.4.8=S,0.9.2342.19200300.100.1.1=U');
    same('commonName=x,organizationalUnitName=y,domainComponent=z,userid=u', 'cn=x,ou=y,dc=z,uid=u');
    same('OID.2.5.4.3=x', 'cn=x');
    same('cn=#0c03616263', 'cn=ABC');
    same('cn="Smith, John"', 'cn=Smith\\, John');
    same('cn=a;dc=b', 'cn=a,dc=b');
    differ('cn=foo bar', 'cn=foobar');
    differ('cn=a,dc=b', 'cn=a\\,dc\\=b');
    differ('cn=a+ou=b', 'cn=a,ou=b');
    differ('cn=x', 'sn=x');
  });

  test('Unicode: lower-casing, NFKC, full case folding', () => {
    same('cn=ÜNÏCÖDÉ', 'cn=ünïcödé');
    same('cn=\u00e9', 'cn=e\u0301');
    same('cn=Straße', 'cn=STRASSE');
    same('cn=\u1E9E', 'cn=ss'); // capital sharp s
    same('cn=\u1E9E', 'cn=\u00DF');
    same('cn=ΣΊΣΥΦΟΣ', 'cn=σίσυφος');
    same('cn=\u212A', 'cn=k'); // Kelvin sign
    same('cn=日本語', 'cn=\\E6\\97\\A5\\E6\\9C\\AC\\E8\\AA\\9E');
  });

  test('all-space and empty values compare equal (RFC 4518)', () => {
    same('cn=', 'cn=\\20\\20');
  });

  test('multi-valued RDN order does not matter', () => {
    same('cn=a+ou=b,dc=x', 'ou=B+CN=A,dc=x');
    same('cn=a+ou=b+uid=c', 'uid=c+2.5.4.11=b+cn=a');
    assert.equal(normalizeDn('ou=B+CN=A'), 'cn=a+ou=b');
  });

  test('normalisation is a fixed point for every single code point', () => {
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const key = normalizeDn(cn(String.fromCodePoint(cp)));
      if (normalizeDn(key) !== key) assert.fail(`U+${cp.toString(16).toUpperCase()}: ${key} -> ${normalizeDn(key)}`);
    }
  });

  test('keys re-parse to the same key, with hostile values', () => {
    for (const v of HOSTILE) {
      const key = normalizeDn(cn(v));
      assert.equal(normalizeDn(key), key, JSON.stringify(v));
    }
  });

  test('caseExactTypes: uid compared exactly, other types still case-insensitive', () => {
    const opts = { caseExactTypes: new Set(['uid']) };
    differ('uid=alice,dc=x', 'uid=Alice,dc=x', opts);
    differ('uid=alice', 'UID= alice\\ ', opts);
    differ('uid=\u00e9', 'uid=e\u0301', opts);
    same('uid=alice,DC=X', 'UID=alice,dc=x', opts);
    same('uid=Alice', '0.9.2342.19200300.100.1.1=Alice', opts);
    same('uid=Alice', 'userid=Alice', opts);
    same('uid=Alice', 'uid=  Alice  ', opts); // unescaped surrounding spaces are not part of the value
    assert.equal(normalizeDn('UID=Alice+CN=Bob Smith', opts), 'cn=bob smith+uid=Alice');
    // without the option it is caseIgnoreMatch
    same('uid=alice', 'uid=Alice');
  });
});

describe('isDescendantOrSelf / depthBelow', () => {
  const base = parseDn('dc=example,dc=com');
  const opts = { caseExactTypes: new Set(['uid']) };

  test('self, children, grandchildren', () => {
    assert.equal(depthBelow(parseDn('DC=Example, DC=com'), base), 0);
    assert.equal(depthBelow(parseDn('ou=People,dc=example,dc=com'), base), 1);
    assert.equal(depthBelow(parseDn('uid=alice,ou=People,dc=example,dc=com'), base), 2);
    assert.equal(isDescendantOrSelf(parseDn('uid=alice,ou=People,dc=example,dc=com'), base), true);
    assert.equal(isDescendantOrSelf(base, base), true);
  });

  test('not below', () => {
    assert.equal(depthBelow(parseDn('dc=com'), base), -1);
    assert.equal(depthBelow(parseDn('dc=example,dc=org'), base), -1);
    assert.equal(depthBelow(parseDn('ou=People,dc=other,dc=com'), base), -1);
    assert.equal(depthBelow(parseDn('cn=x,dc=notexample,dc=com'), base), -1);
    assert.equal(isDescendantOrSelf(parseDn('dc=com'), base), false);
    // an escaped comma is not an RDN boundary, whatever a string suffix check would say
    assert.equal(isDescendantOrSelf(parseDn('cn=a\\,dc=example\\,dc=com'), base), false);
    assert.equal(isDescendantOrSelf(parseDn('cn=a\\,dc=example,dc=com'), base), false);
  });

  test('root DSE is an ancestor of everything', () => {
    assert.equal(depthBelow(base, []), 2);
    assert.equal(depthBelow([], []), 0);
    assert.equal(depthBelow([], base), -1);
  });

  test('normalised comparison, OIDs, multi-valued RDNs', () => {
    assert.equal(depthBelow(parseDn('cn=X,0.9.2342.19200300.100.1.25=EXAMPLE,DC=COM'), base), 1);
    assert.equal(depthBelow(parseDn('cn=a+ou=b,dc=example,dc=com'), parseDn('OU=B+CN=A,dc=example,dc=com')), 0);
  });

  test('caseExactTypes applies to base RDNs', () => {
    const ub = parseDn('uid=alice,ou=People,dc=example,dc=com');
    assert.equal(depthBelow(parseDn('cn=x,uid=alice,ou=people,dc=example,dc=com'), ub, opts), 1);
    assert.equal(depthBelow(parseDn('cn=x,uid=Alice,ou=people,dc=example,dc=com'), ub, opts), -1);
    assert.equal(depthBelow(parseDn('cn=x,uid=Alice,ou=people,dc=example,dc=com'), ub), 1);
    assert.equal(isDescendantOrSelf(parseDn('uid=ALICE,ou=People,dc=example,dc=com'), ub, opts), false);
  });

  test('accepts strings too', () => {
    assert.equal(depthBelow('uid=a,dc=example,dc=com', 'dc=example,dc=com'), 1);
    assert.equal(isDescendantOrSelf('dc=example,dc=com', 'DC=EXAMPLE,DC=COM'), true);
  });
});
