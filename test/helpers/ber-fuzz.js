// A deterministic generator of valid and mutated BER-encoded LDAP requests, and a runner that
// throws them at a bridge over raw TCP and checks what comes back. Shared by test/e2e/fuzz.test.js
// (a bounded run) and scripts/fuzz.js (a long run).
//
//   const cases = fuzzCases({ seed, count, vocab });          // or fuzzCase(seed, index, vocab)
//   const report = await runFuzz({ host, port, seed, count, vocab });
//   report.problems -> [{ kind, detail, index, replay, hex }]
//
// Every case is derived from (seed, index) alone, so one failing case replays on its own:
// DLB_FUZZ_SEED=<seed> DLB_FUZZ_CASE=<index>.
//
// What the runner checks, per connection (the "oracle"):
//   - every byte the server sends parses as a sequence of complete LDAPMessages;
//   - every response answers a request of this stream: its messageID is one we sent, with the
//     response tag of that request's operation (entries only for searches);
//   - a Notice of Disconnection (messageID 0, extendedResp, resultCode 2, responseName
//     1.3.6.1.4.1.1466.20036) is the last thing sent, and the connection closes after it;
//   - the server closes without a Notice only after an unbind;
//   - a stream the server must refuse (bad framing, unknown operation, unreadable envelope,
//     oversized length) ends with the connection closed;
//   - otherwise every request that has a response gets one;
//   - no response is operationsError "internal error" (an exception escaped a handler);
//   - nothing stalls: while something is still owed, the server makes progress (sends bytes or
//     closes) at least every `timeoutMs` (default 2 s).
import net from 'node:net';

// ------------------------------------------------------------------------------------ PRNG

/** sfc32: small, fast, good enough, and identical on every platform. */
export function makeRng(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  const r = {
    next,
    /** Integer in [0, n). */
    int: (n) => Math.floor(next() * n),
    /** Integer in [lo, hi]. */
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    /** Small sizes often, large ones sometimes. */
    size: (max) => {
      const x = next();
      if (x < 0.6) return Math.floor(next() * 8);
      if (x < 0.9) return Math.floor(next() * 64);
      return Math.floor(next() * max);
    },
    /** Weighted choice: [[weight, value], ...]. */
    weighted: (table) => {
      let total = 0;
      for (const [w] of table) total += w;
      let x = next() * total;
      for (const [w, v] of table) {
        if ((x -= w) < 0) return v;
      }
      return table[table.length - 1][1];
    },
  };
  return r;
}

/** The seed of case `index` of a run seeded with `seed` (a 32-bit mix, stable forever). */
export function caseSeed(seed, index) {
  const mix = (x) => {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  return mix((mix(seed >>> 0) + Math.imul(index + 1, 0x9e3779b9)) | 0);
}

/** Seed from DLB_FUZZ_SEED (decimal or 0x-hex), else a fresh random one. */
export function seedFromEnv(env = process.env) {
  const s = env.DLB_FUZZ_SEED;
  if (s !== undefined && s !== '') {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`DLB_FUZZ_SEED must be an integer in [0, 2^32): ${s}`);
    return n >>> 0;
  }
  return (Math.random() * 0x100000000) >>> 0;
}

// ------------------------------------------------------------------------------------ BER

const EMPTY = Buffer.alloc(0);

/** Definite length octets; `form` forces a (legal, non-minimal) long form of 1..4 octets. */
export function lengthOctets(n, form) {
  if (form === undefined) {
    if (n < 0x80) return Buffer.from([n]);
    if (n < 0x100) return Buffer.from([0x81, n]);
    if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
    if (n < 0x1000000) return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
    return Buffer.from([0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  }
  const out = [0x80 | form];
  for (let i = form - 1; i >= 0; i--) out.push(Math.floor(n / 256 ** i) & 0xff);
  return Buffer.from(out);
}

export function tlv(tag, body, form) {
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length, form), body]);
}

// A request is built as a tree so mutations can change one element and still re-encode every
// enclosing length correctly (reaching the decoder's inner checks, not just the framing).
//   primitive:   { t, v: Buffer }        constructed: { t, c: [nodes] }
//   pre-encoded: { raw: Buffer }        overrides:   tb (tag bytes), len (length bytes),
//                                                    form (long form size), trail (bytes after)
export const P = (t, v = EMPTY) => ({ t, v: Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8') });
export const C = (t, c) => ({ t, c });
export const RAW = (raw) => ({ raw });

export function encode(node) {
  if (node.raw) return node.raw;
  const body = node.c ? Buffer.concat(node.c.map(encode)) : node.v;
  const tag = node.tb ?? Buffer.from([node.t]);
  const len = node.len ?? lengthOctets(body.length, node.form);
  return Buffer.concat([tag, len, body, node.trail ?? EMPTY]);
}

/** Two's complement, minimal; values beyond 2^53 go through BigInt. */
export function intBytes(v) {
  let x = BigInt(v);
  const out = [];
  for (;;) {
    const byte = Number(x & 0xffn);
    out.unshift(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(out);
}
export const INT = (v, t = 0x02) => P(t, intBytes(v));
export const OCT = (s, t = 0x04) => P(t, s);
export const BOOL = (b, t = 0x01) => P(t, Buffer.from([b ? 0xff : 0x00]));
export const ENUM = (v) => INT(v, 0x0a);

// ------------------------------------------------------------------------------------ LDAP

export const OP = {
  bind: 0x60, unbind: 0x42, search: 0x63, modify: 0x66, add: 0x68, del: 0x4a, modDN: 0x6c,
  compare: 0x6e, abandon: 0x50, extended: 0x77,
};
/** Request protocolOp tag -> response tag. */
export const RESPONSE_OF = new Map([[0x60, 0x61], [0x63, 0x65], [0x66, 0x67], [0x68, 0x69], [0x4a, 0x6b], [0x6c, 0x6d], [0x6e, 0x6f], [0x77, 0x78]]);
const RESULT_TAGS = new Set([0x61, 0x65, 0x67, 0x69, 0x6b, 0x6d, 0x6f, 0x78]);
export const NOTICE_OF_DISCONNECTION = '1.3.6.1.4.1.1466.20036';
export const WHOAMI = '1.3.6.1.4.1.4203.1.11.3';

export const message = (id, op, controls) => C(0x30, controls ? [INT(id), op, C(0xa0, controls)] : [INT(id), op]);
export const control = (oid, critical, value) => C(0x30, [OCT(oid), ...(critical !== undefined ? [BOOL(critical)] : []), ...(value !== undefined ? [OCT(value)] : [])]);

export const bindSimple = (name, password, version = 3) => C(OP.bind, [INT(version), OCT(name), P(0x80, password)]);
export const bindSasl = (name, mech, creds) => C(OP.bind, [INT(3), OCT(name), C(0xa3, [OCT(mech), ...(creds !== undefined ? [OCT(creds)] : [])])]);
export const unbind = () => P(OP.unbind);
export const abandon = (id) => P(OP.abandon, intBytes(id));
export const whoami = () => C(OP.extended, [P(0x80, WHOAMI)]);
export const extendedOp = (oid, value) => C(OP.extended, [P(0x80, oid), ...(value !== undefined ? [P(0x81, value)] : [])]);
export const compareOp = (dn, attr, value) => C(OP.compare, [OCT(dn), C(0x30, [OCT(attr), OCT(value)])]);
export const delOp = (dn) => P(OP.del, dn);
export const addOp = (dn, attrs) => C(OP.add, [OCT(dn), C(0x30, attrs.map(([a, vs]) => C(0x30, [OCT(a), C(0x31, vs.map((v) => OCT(v)))])))]);
export const modifyOp = (dn, changes) => C(OP.modify, [OCT(dn), C(0x30, changes.map(([op, a, vs]) => C(0x30, [ENUM(op), C(0x30, [OCT(a), C(0x31, vs.map((v) => OCT(v)))])])))]);
export const modDnOp = (dn, newRdn, deleteOld, newSuperior) => C(OP.modDN, [OCT(dn), OCT(newRdn), BOOL(deleteOld), ...(newSuperior !== undefined ? [P(0x80, newSuperior)] : [])]);
export function searchOp({ base = '', scope = 2, deref = 0, sizeLimit = 0, timeLimit = 0, typesOnly = false, filter = F.present('objectClass'), attrs = [] } = {}) {
  return C(OP.search, [OCT(base), ENUM(scope), ENUM(deref), INT(sizeLimit), INT(timeLimit), BOOL(typesOnly), filter, C(0x30, attrs.map((a) => OCT(a)))]);
}

/** Filter CHOICE builders (RFC 4511 §4.5.1.7). */
export const F = {
  and: (fs) => C(0xa0, fs),
  or: (fs) => C(0xa1, fs),
  not: (f) => C(0xa2, [f]),
  eq: (a, v) => C(0xa3, [OCT(a), OCT(v)]),
  ge: (a, v) => C(0xa5, [OCT(a), OCT(v)]),
  le: (a, v) => C(0xa6, [OCT(a), OCT(v)]),
  approx: (a, v) => C(0xa8, [OCT(a), OCT(v)]),
  present: (a) => P(0x87, a),
  substr: (a, { initial, any = [], final } = {}) =>
    C(0xa4, [OCT(a), C(0x30, [...(initial !== undefined ? [P(0x80, initial)] : []), ...any.map((x) => P(0x81, x)), ...(final !== undefined ? [P(0x82, final)] : [])])]),
  ext: ({ rule, attr, value, dnAttrs }) =>
    C(0xa9, [...(rule !== undefined ? [P(0x81, rule)] : []), ...(attr !== undefined ? [P(0x82, attr)] : []), P(0x83, value), ...(dnAttrs !== undefined ? [BOOL(dnAttrs, 0x84)] : [])]),
};

/** `depth` levels of NOT/AND/OR around `inner`, built from the inside out (no recursion). */
export function nestedFilter(depth, inner, tags = [0xa2]) {
  let bytes = encode(inner);
  for (let i = 0; i < depth; i++) bytes = tlv(tags[i % tags.length], bytes);
  return RAW(bytes);
}

// ------------------------------------------------------------------------------------ vocabulary

/** What the generator talks about; defaults fit the Django test database. */
export function defaultVocab({ base = 'dc=example,dc=com', users = ['alice', 'bob', 'carol', 'frank', 'Frank', 'dora'], groups = ['secret-agents', 'committers', "Smith, John's team"], serviceDn = `cn=apache,ou=services,${base}`, servicePw = 'svc-Secret!', userPasswords = {}, hashedBindRate = 0.5 } = {}) {
  const esc = (v) => v.replace(/[,+"\\<>;=]/g, (c) => '\\' + c).replace(/^ | $/g, '\\ ').replace(/^#/, '\\#');
  const userDns = users.map((u) => `uid=${esc(u)},ou=users,${base}`);
  const groupDns = groups.map((g) => `cn=${esc(g)},ou=groups,${base}`);
  const dns = [
    '', base, `ou=users,${base}`, `ou=groups,${base}`, `ou=permissions,${base}`, `ou=roles,${base}`, 'cn=Subschema', 'CN=SUBSCHEMA',
    ...userDns, ...groupDns, serviceDn,
    `cn=svn.commit_repo,ou=permissions,${base}`, `cn=auth.view_user,ou=permissions,${base}`, `cn=staff,ou=roles,${base}`, `cn=superusers,ou=roles,${base}`,
    `UID=alice, OU=Users, DC=Example, DC=com`, `uid=alice;ou=users;${base}`, `0.9.2342.19200300.100.1.1=alice,ou=users,${base}`,
    `uid=nobody,ou=users,${base}`, `cn=no such group,ou=groups,${base}`, `ou=nowhere,${base}`, 'dc=elsewhere', 'o=other',
    `uid=alice+cn=x,ou=users,${base}`, `cn=a\\2a\\00b,ou=groups,${base}`, `cn=\\25,ou=groups,${base}`, `cn=_,ou=groups,${base}`, `uid=%,ou=users,${base}`,
    `uid=alice' OR '1'='1,ou=users,${base}`, `cn=x\\22; DROP TABLE auth_user; --,ou=groups,${base}`,
    'cn=\\zz,dc=example,dc=com', 'cn=', '=x', ',', 'cn=a,,dc=com', 'cn="unterminated', 'cn=#04', 'cn=#0403616263', 'cn=\\C3', 'uid=a\0b',
    `cn=${'x'.repeat(300)},ou=groups,${base}`,
  ];
  return {
    base, users, groups, serviceDn, servicePw, dns, userDns, groupDns, hashedBindRate,
    userCreds: Object.entries(userPasswords).map(([u, pw]) => [`uid=${esc(u)},ou=users,${base}`, pw]),
    attrs: ['uid', 'UID', 'cn', 'sn', 'mail', 'givenName', 'gn', 'displayName', 'memberOf', 'member', 'memberUid', 'uniqueMember', 'objectClass', 'objectclass',
      'djangoId', 'djangoIsActive', 'djangoIsStaff', 'djangoIsSuperuser', 'djangoPermission', 'djangoDateJoined', 'djangoLastLogin', 'entryUUID', 'entryDN',
      'hasSubordinates', 'subschemaSubentry', 'description', 'ou', 'dc', 'o', 'namingContexts', 'supportedExtension', 'userPassword', 'noSuchAttr',
      'cn;lang-en', 'uid;binary', '2.5.4.3', '0.9.2342.19200300.100.1.1', '1.3.6.1.4.1.99999.1.1', '', ' ', ';', '*', '+', '1.1', 'x'.repeat(200), 'ü'],
    values: ['alice', 'Alice', 'ALICE', 'bob', 'a', '', ' ', '*', '%', '_', '\\', "'", '"', ';', '--', '\0', '%%', '_lice', 'ali%', "alice' OR '1'='1", "'; DROP TABLE auth_user; --",
      'TRUE', 'FALSE', 'true', '0', '1', '-1', '-0', '007', '99999999999999999999', '2147483648', '20210301123456Z', '20210301123456.123Z', 'inetOrgPerson', 'groupOfNames',
      'person', 'top', '2.5.6.6', 'svn.commit_repo', 'auth.view_user', 'secret-agents', 'Ünïcödé', 'ß', 'SS', 'İ', '\u0130\u0131', 'x'.repeat(1000), '\ud800', ...userDns, ...groupDns],
    rules: ['caseIgnoreMatch', 'caseExactMatch', '2.5.13.2', '2.5.13.5', 'integerMatch', 'booleanMatch', 'distinguishedNameMatch', 'objectIdentifierMatch', 'caseIgnoreIA5Match', 'noSuchRule', '1.2.3.4', ''],
    oids: [WHOAMI, WHOAMI, '1.3.6.1.4.1.1466.20037', '1.3.6.1.1.8', '1.3.6.1.4.1.4203.1.11.1', NOTICE_OF_DISCONNECTION, '', 'not an oid', '1.2.3'],
    controls: ['1.2.840.113556.1.4.319', '2.16.840.1.113730.3.4.2', '2.16.840.1.113730.3.4.18', '1.2.840.113556.1.4.473', '1.3.6.1.1.12', '1.3.6.1.4.1.4203.1.10.1', '1.2.3.4.5', ''],
    mechanisms: ['PLAIN', 'EXTERNAL', 'GSSAPI', 'DIGEST-MD5', 'SCRAM-SHA-256', ''],
  };
}

// ------------------------------------------------------------------------------------ valid requests

function randomValue(r, v) {
  const x = r.next();
  if (x < 0.75) return r.pick(v.values);
  if (x < 0.9) return r.bytes(r.size(40)); // arbitrary bytes, often not UTF-8
  return r.pick(v.values) + r.pick(v.values);
}

function randomDn(r, v) {
  const x = r.next();
  if (x < 0.85) return r.pick(v.dns);
  if (x < 0.93) return r.bytes(r.size(60));
  // A multi-valued RDN with many distinct types (moderate size: the big one is a targeted test).
  const n = r.range(2, 400);
  return Array.from({ length: n }, (_, i) => `a${i.toString(36)}=${r.pick(['x', '', 'y\\2c'])}`).join('+') + ',' + v.base;
}

export function randomFilter(r, v, depth = 0) {
  const attr = () => r.pick(v.attrs);
  const composite = depth < 6 && r.chance(depth === 0 ? 0.5 : 0.3);
  if (composite) {
    const k = r.weighted([[4, 'and'], [4, 'or'], [3, 'not']]);
    if (k === 'not') return F.not(randomFilter(r, v, depth + 1));
    const n = r.weighted([[1, 0], [6, r.range(1, 4)], [1, r.range(5, 20)]]);
    return F[k](Array.from({ length: n }, () => randomFilter(r, v, depth + 1)));
  }
  const k = r.weighted([[5, 'eq'], [3, 'substr'], [2, 'present'], [1, 'ge'], [1, 'le'], [1, 'approx'], [2, 'ext']]);
  switch (k) {
    case 'eq':
    case 'ge':
    case 'le':
    case 'approx':
      return F[k](attr(), randomValue(r, v));
    case 'present':
      return F.present(attr());
    case 'substr': {
      const parts = {};
      if (r.chance(0.5)) parts.initial = randomValue(r, v);
      parts.any = Array.from({ length: r.weighted([[3, 0], [4, 1], [2, 2], [1, r.range(3, 12)]]) }, () => randomValue(r, v));
      if (r.chance(0.5) || (parts.initial === undefined && parts.any.length === 0)) parts.final = randomValue(r, v);
      return F.substr(attr(), parts);
    }
    case 'ext': {
      const spec = { value: randomValue(r, v) };
      if (r.chance(0.6)) spec.rule = r.pick(v.rules);
      if (r.chance(0.7) || spec.rule === undefined) spec.attr = attr();
      if (r.chance(0.4)) spec.dnAttrs = r.chance(0.5);
      return F.ext(spec);
    }
  }
}

function randomControls(r, v) {
  const n = r.range(1, 3);
  return Array.from({ length: n }, () => {
    const oid = r.pick(v.controls);
    let value;
    if (oid === '1.2.840.113556.1.4.319') value = encode(C(0x30, [INT(r.pick([0, 1, 10, 1000])), OCT(r.chance(0.5) ? '' : r.bytes(8))]));
    else if (oid === '1.3.6.1.1.12') value = encode(randomFilter(r, v, 3));
    else if (oid === '2.16.840.1.113730.3.4.18') value = 'dn:' + r.pick(v.dns);
    else if (r.chance(0.3)) value = r.bytes(r.size(20));
    return control(oid, r.chance(0.6) ? r.chance(0.4) : undefined, value);
  });
}

/** One valid (well-formed) request of a random kind; `kind` forces one. */
export function randomRequest(r, v, kind) {
  kind ??= r.weighted([[6, 'bind'], [2, 'sasl'], [14, 'search'], [5, 'compare'], [3, 'extended'], [2, 'abandon'], [1, 'unbind'], [2, 'add'], [2, 'modify'], [2, 'del'], [2, 'modDN']]);
  switch (kind) {
    case 'bind': {
      // Passwords that cost no real hashing most of the time (empty -> 49 at once; the service
      // account's hash has 1000 iterations); wrong passwords for real users sometimes.
      const who = r.weighted([[3, 'anon'], [3, 'service'], [2, 'user'], [2, 'any']]);
      const name = who === 'anon' ? '' : who === 'service' ? v.serviceDn : who === 'user' ? r.pick(v.userDns) : randomDn(r, v);
      // A non-empty password for anyone but the service account costs a real hash (a dummy one
      // for unknown names): `hashedBindRate` keeps those affordable when hashes are slow.
      const pw = who === 'anon' ? '' : who === 'service' && r.chance(0.6) ? v.servicePw : r.chance(who === 'service' ? 0.5 : 1 - v.hashedBindRate) ? '' : randomValue(r, v);
      return bindSimple(name, pw, r.chance(0.9) ? 3 : r.pick([2, 0, 4, 255, -1]));
    }
    case 'sasl':
      return bindSasl(r.chance(0.5) ? '' : randomDn(r, v), r.pick(v.mechanisms), r.chance(0.5) ? randomValue(r, v) : undefined);
    case 'search':
      return searchOp({
        base: randomDn(r, v),
        scope: r.weighted([[3, 2], [1, 1], [1, 0]]),
        deref: r.range(0, 3),
        sizeLimit: r.weighted([[4, 0], [1, r.range(1, 5)], [1, r.pick([-1, 2147483647, 1000000])]]),
        timeLimit: r.weighted([[4, 0], [1, r.range(1, 5)], [1, -1]]),
        typesOnly: r.chance(0.2),
        filter: randomFilter(r, v),
        attrs: Array.from({ length: r.weighted([[3, 0], [4, r.range(1, 4)], [1, r.range(5, 30)]]) }, () => r.pick(v.attrs)),
      });
    case 'compare':
      return compareOp(randomDn(r, v), r.pick(v.attrs), r.chance(0.5) ? r.pick([...v.userDns, ...v.users]) : randomValue(r, v));
    case 'extended':
      return r.chance(0.7) ? whoami() : extendedOp(r.pick(v.oids), r.chance(0.4) ? randomValue(r, v) : undefined);
    case 'abandon':
      return abandon(r.pick([0, 1, 2, 3, 7, 2147483647]));
    case 'unbind':
      return unbind();
    case 'add':
      return addOp(randomDn(r, v), [['objectClass', ['inetOrgPerson']], ['uid', [randomValue(r, v)]], ['cn', ['x']]]);
    case 'modify':
      return modifyOp(randomDn(r, v), [[r.range(0, 3), r.pick(v.attrs), [randomValue(r, v)]]]);
    case 'del':
      return delOp(randomDn(r, v));
    case 'modDN':
      return modDnOp(randomDn(r, v), 'uid=mallory', r.chance(0.5), r.chance(0.5) ? r.pick(v.dns) : undefined);
  }
  throw new Error(`unknown kind ${kind}`);
}

// ------------------------------------------------------------------------------------ mutations

function nodesOf(root) {
  const out = [];
  const walk = (n, parent, index) => {
    out.push({ n, parent, index });
    if (n.c) n.c.forEach((ch, i) => walk(ch, n, i));
  };
  walk(root, null, -1);
  return out;
}

const clone = (n) => (n.raw ? { raw: n.raw } : n.c ? { ...n, c: n.c.map(clone) } : { ...n });

const INTERESTING_LENGTHS = [
  [0x80], // indefinite
  [0x84, 0xff, 0xff, 0xff, 0xff],
  [0x85, 0, 0, 0, 0, 1],
  [0x8f],
  [0xff],
  [0x81],
  [0x82, 0xff],
  [0x84, 0x7f, 0xff, 0xff, 0xff],
  [0x84, 0x00, 0x04, 0x00, 0x01], // just over 256 KiB
  [0x00],
  [0x7f],
];

/** One structural mutation of a request tree (in place; returns a label). */
function mutateTree(r, root, v) {
  const all = nodesOf(root);
  const pick = r.pick(all);
  const { n, parent, index } = pick;
  const m = r.weighted([[3, 'tag'], [2, 'empty'], [2, 'drop'], [2, 'dup'], [1, 'swap'], [2, 'insert'], [3, 'value'], [3, 'len'], [1, 'form'], [2, 'trail'], [1, 'multibyte-tag'], [1, 'int']]);
  switch (m) {
    case 'tag': {
      const t = n.t ?? 0x04;
      n.tb = Buffer.from([r.weighted([[2, t ^ 0x20], [2, t ^ (1 << r.int(5))], [1, t ^ 0x40], [1, t ^ 0x80], [2, r.int(256)], [1, (t + 1) & 0xff], [1, (t - 1) & 0xff]])]);
      return `tag:${(n.t ?? 0).toString(16)}->${n.tb.toString('hex')}`;
    }
    case 'multibyte-tag':
      n.tb = Buffer.from([(n.t ?? 0) | 0x1f, 0x81, 0x00]);
      return 'multibyte-tag';
    case 'empty':
      if (n.raw) n.raw = EMPTY;
      else if (n.c) n.c = [];
      else n.v = EMPTY;
      return 'empty';
    case 'drop':
      if (parent) parent.c.splice(index, 1);
      return 'drop';
    case 'dup':
      if (parent) parent.c.splice(index, 0, clone(n));
      return 'dup';
    case 'swap':
      if (parent && parent.c.length > 1) {
        const j = r.int(parent.c.length);
        [parent.c[index], parent.c[j]] = [parent.c[j], parent.c[index]];
      }
      return 'swap';
    case 'insert': {
      const target = n.c ? n : parent;
      if (target) target.c.splice(r.int(target.c.length + 1), 0, r.chance(0.5) ? P(r.int(256), r.bytes(r.size(10))) : randomFilter(r, v, 4));
      return 'insert';
    }
    case 'value':
      if (n.raw) n.raw = r.bytes(r.size(30));
      else if (n.c) n.c = [P(r.int(256), r.bytes(r.size(20)))];
      else n.v = r.weighted([[3, r.bytes(r.size(30))], [1, Buffer.alloc(r.range(7, 12), 0xff)], [1, Buffer.from([0x80])], [1, Buffer.from([0xff, 0xff, 0xff, 0xff])], [1, Buffer.from(randomValue(r, v))]]);
      return 'value';
    case 'len':
      n.len = r.chance(0.7) ? Buffer.from(r.pick(INTERESTING_LENGTHS)) : lengthOctets(Math.max(0, encode({ ...n, len: undefined, trail: undefined, tb: undefined }).length - 2 + r.range(-3, 3)));
      return `len:${n.len.toString('hex')}`;
    case 'form':
      n.form = r.range(1, 4); // legal non-minimal long form (when the length fits)
      return `form:${n.form}`;
    case 'trail':
      n.trail = r.chance(0.5) ? Buffer.from([0x00, 0x00]) : r.bytes(r.range(1, 6));
      return 'trail';
    case 'int':
      n.v = r.pick([Buffer.alloc(0), Buffer.alloc(7, 0x7f), Buffer.from([0x80, 0, 0, 0]), Buffer.from([0xff]), Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x01]), Buffer.from([0x7f, 0xff, 0xff, 0xff])]);
      return 'int';
  }
  return m;
}

/** Byte-level mutation of an encoded frame. */
function mutateBytes(r, buf) {
  const b = Buffer.from(buf);
  const m = r.weighted([[3, 'flip'], [2, 'insert'], [2, 'delete'], [1, 'dup'], [2, 'truncate'], [1, 'overwrite']]);
  switch (m) {
    case 'flip': {
      const k = r.range(1, 4);
      for (let i = 0; i < k && b.length; i++) b[r.int(b.length)] ^= 1 << r.int(8);
      return [b, 'flip'];
    }
    case 'insert': {
      const at = r.int(b.length + 1);
      return [Buffer.concat([b.subarray(0, at), r.bytes(r.range(1, 8)), b.subarray(at)]), 'insert'];
    }
    case 'delete': {
      const at = r.int(b.length + 1);
      return [Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.range(1, 8)))]), 'delete'];
    }
    case 'dup': {
      const at = r.int(b.length + 1);
      const len = r.range(1, 16);
      return [Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]), 'dup'];
    }
    case 'truncate':
      return [b.subarray(0, r.int(b.length)), 'truncate'];
    case 'overwrite': {
      const at = r.int(b.length + 1);
      const fill = r.pick([0x00, 0xff, 0x80, 0x30]);
      b.fill(fill, at, Math.min(b.length, at + r.range(1, 6)));
      return [b, 'overwrite'];
    }
  }
  return [b, m];
}

/** Re-wraps the content of a (possibly damaged) LDAPMessage in a correct outer header, so the
 * damage reaches the decoder instead of the framing. */
function rewrap(buf) {
  if (buf.length < 2) return buf;
  let off = 2;
  if (buf[1] & 0x80) off = 2 + Math.min(4, buf[1] & 0x7f);
  return tlv(0x30, buf.subarray(Math.min(off, buf.length)));
}

// ------------------------------------------------------------------------------------ cases

const PROBE_ID = 2147483000;

/**
 * One fuzz case: a byte stream (one or more messages, valid and damaged) and how to write it.
 * @returns {{ index, seed, label: string, stream: Buffer, writes: Buffer[], gapMs: number }}
 */
export function fuzzCase(seed, index, vocab = defaultVocab(), { maxMessageBytes = 256 * 1024 } = {}) {
  const s = caseSeed(seed, index);
  const r = makeRng(s);
  const labels = [];
  const frames = [];
  let nextId = 1;
  // Most streams start with a valid bind as the service account, so what follows reaches the
  // directory instead of stopping at "anonymous search is not allowed".
  const prefix = r.weighted([[55, 'service'], [vocab.userCreds?.length ? 15 : 0, 'user'], [30, 'none']]);
  if (prefix === 'service') {
    frames.push(encode(message(nextId++, bindSimple(vocab.serviceDn, vocab.servicePw))));
    labels.push('service-bind');
  } else if (prefix === 'user') {
    // A real user with the right password: the "own entry only" access rules.
    const [dn, pw] = r.pick(vocab.userCreds);
    frames.push(encode(message(nextId++, bindSimple(dn, pw))));
    labels.push('user-bind');
  }
  const nMessages = r.weighted([[6, 1], [3, r.range(2, 4)], [1, r.range(5, 12)]]);
  for (let k = 0; k < nMessages; k++) {
    const id = r.chance(0.03) ? r.pick([0, 2147483647, nextId - 1]) : nextId++;
    const kind = r.weighted([[5, 'valid'], [6, 'tree'], [4, 'bytes'], [1, 'special'], [1, 'deep'], [1, 'zero']]);
    if (kind === 'special') {
      const [bytes, label] = specialFrame(r, vocab, maxMessageBytes);
      frames.push(bytes);
      labels.push(label);
      continue;
    }
    let op = randomRequest(r, vocab);
    let controls = r.chance(0.15) ? randomControls(r, vocab) : undefined;
    if (kind === 'deep') {
      // Thousands of nested NOT/AND/OR around a filter, inside an otherwise valid search.
      const depth = r.weighted([[2, r.range(31, 40)], [2, r.range(100, 1000)], [1, r.range(1000, 5000)]]);
      const tags = r.pick([[0xa2], [0xa0], [0xa1], [0xa0, 0xa2], [0xa2, 0xa1, 0xa0]]);
      op = searchOp({ base: vocab.base, filter: nestedFilter(depth, F.eq('uid', 'alice'), tags), attrs: ['uid'] });
      labels.push(`deep:${depth}:${tags.map((t) => t.toString(16)).join('/')}`);
      frames.push(encode(message(id, op, controls)));
      continue;
    }
    const tree = message(id, op, controls);
    if (kind === 'valid') {
      labels.push(`valid:${op.t.toString(16)}`);
      if (r.chance(0.1)) {
        // Legal but unusual: non-minimal long-form lengths everywhere.
        for (const { n } of nodesOf(tree)) if (!n.raw) n.form = r.range(1, 4);
        labels[labels.length - 1] += ':longform';
      }
      frames.push(encode(tree));
    } else if (kind === 'tree') {
      const k = r.range(1, 3);
      const done = [];
      for (let i = 0; i < k; i++) done.push(mutateTree(r, tree, vocab));
      labels.push(`tree:${op.t.toString(16)}:${done.join(',')}`);
      frames.push(encode(tree));
    } else if (kind === 'zero') {
      // Zero-length everything: every primitive empty; sometimes every constructed one too.
      const deep = r.chance(0.5);
      for (const { n } of nodesOf(tree)) {
        if (n.raw) n.raw = EMPTY;
        else if (!n.c) n.v = EMPTY;
        else if (deep && n !== tree) n.c = [];
      }
      labels.push(`zero:${op.t.toString(16)}${deep ? ':deep' : ''}`);
      frames.push(encode(tree));
    } else {
      const [b, label] = mutateBytes(r, encode(tree));
      const fix = r.chance(0.7);
      labels.push(`bytes:${op.t.toString(16)}:${label}${fix ? ':rewrapped' : ''}`);
      frames.push(fix ? rewrap(b) : b);
    }
  }
  let stream = Buffer.concat(frames);
  // A WhoAmI at the end of a stream that frames completely: if the server keeps the connection,
  // it must answer it (proof that the connection is still served after what came before).
  if (r.chance(0.5) && splitFrames(stream, maxMessageBytes).tail === 'none') {
    stream = Buffer.concat([stream, encode(message(PROBE_ID, whoami()))]);
    labels.push('probe');
  }
  // How the bytes travel: one write, random pieces, or one byte at a time.
  const how = stream.length <= 600 ? r.weighted([[5, 'one'], [3, 'pieces'], [2, 'bytes']]) : r.weighted([[6, 'one'], [3, 'pieces']]);
  const writes = [];
  if (how === 'one') writes.push(stream);
  else if (how === 'bytes') for (let i = 0; i < stream.length; i++) writes.push(stream.subarray(i, i + 1));
  else {
    let i = 0;
    while (i < stream.length) {
      const n = Math.max(1, r.size(Math.max(2, stream.length >> 2)));
      writes.push(stream.subarray(i, i + n));
      i += n;
    }
  }
  return { index, seed, caseSeed: s, label: `${labels.join(' | ')} [${how}:${writes.length}]`, stream, writes, gapMs: how === 'one' ? 0 : r.chance(0.1) ? 1 : 0 };
}

/** Whole frames that damage the framing itself. */
function specialFrame(r, v, max) {
  const body = encode(C(0x30, [INT(1), whoami()])).subarray(2);
  switch (r.int(12)) {
    case 0:
      return [Buffer.concat([Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), body]), 'special:huge-length'];
    case 1:
      return [Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])]), 'special:indefinite'];
    case 2:
      return [Buffer.concat([Buffer.from([0x30, 0x85, 0, 0, 0, 0, body.length]), body]), 'special:length-of-5-octets'];
    case 3:
      return [Buffer.concat([Buffer.from([r.pick([0x31, 0x10, 0x60, 0x00, 0xff, 0x3f, 0x70])]), lengthOctets(body.length), body]), 'special:not-a-sequence'];
    case 4:
      return [Buffer.concat([Buffer.from([0x30]), lengthOctets(max + 1, 4)]), 'special:over-limit'];
    case 5:
      return [Buffer.from([0x30, 0x00]), 'special:empty-message'];
    case 6:
      return [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), 'special:id-only'];
    case 7:
      return [Buffer.from([0x30, 0x05, 0x02, 0x00, 0x42, 0x00, 0x00]), 'special:empty-id'];
    case 8:
      // A big but legal message: a search with many attributes, just under the limit.
      return [encode(message(1, searchOp({ base: v.base, filter: F.eq('uid', 'alice'), attrs: Array.from({ length: Math.floor((max - 200) / 12) }, (_, i) => `attr${i}`) }))), 'special:near-limit'];
    case 9:
      // A message exactly one byte over the limit.
      return [Buffer.concat([Buffer.from([0x30]), lengthOctets(max + 1 - 6, 4), Buffer.alloc(max + 1 - 6)]), 'special:one-over-limit'];
    case 10:
      // A wide OR: as many equality elements as the filter limit allows.
      return [encode(message(1, searchOp({ base: `ou=users,${v.base}`, filter: F.or(Array.from({ length: r.range(500, 1023) }, (_, i) => F.eq('uid', `u${i}`))), attrs: ['uid'] }))), 'special:wide-or'];
    default:
      return [r.bytes(r.range(1, 40)), 'special:random-bytes'];
  }
}

/** All cases of a run (generated lazily). */
export function* fuzzCases({ seed, count, vocab = defaultVocab(), first = 0, maxMessageBytes }) {
  for (let i = first; i < first + count; i++) yield fuzzCase(seed, i, vocab, { maxMessageBytes });
}

// ------------------------------------------------------------------------------------ framing oracle

/** Splits a byte stream exactly as the server's framing does (src/ldap/protocol.ts frameLength
 * and the size check in server.ts). tail: 'none' | 'incomplete' | 'bad'. */
export function splitFrames(buf, max = 256 * 1024) {
  const frames = [];
  let off = 0;
  while (off < buf.length) {
    const rest = buf.length - off;
    if (rest < 2) return { frames, tail: 'incomplete' };
    if (buf[off] !== 0x30) return { frames, tail: 'bad', reason: 'not a SEQUENCE' };
    const l = buf[off + 1];
    let len;
    if (!(l & 0x80)) len = 2 + l;
    else {
      const n = l & 0x7f;
      if (n === 0 || n > 4) return { frames, tail: 'bad', reason: 'bad length' };
      if (rest < 2 + n) return { frames, tail: 'incomplete' };
      let x = 0;
      for (let i = 0; i < n; i++) x = x * 256 + buf[off + 2 + i];
      len = 2 + n + x;
    }
    if (len > max) return { frames, tail: 'bad', reason: 'over limit' };
    if (rest < len) return { frames, tail: 'incomplete' };
    frames.push(buf.subarray(off, off + len));
    off += len;
  }
  return { frames, tail: 'none' };
}

/** A strict TLV read (the server's rules): returns { tag, start, end } or undefined. */
function readTlv(buf, pos, end) {
  if (pos >= end) return undefined;
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) return undefined;
  let p = pos + 1;
  if (p >= end) return undefined;
  let len = buf[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > end) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
  }
  if (p + len > end) return undefined;
  return { tag, start: p, end: p + len };
}

/** What the server can know of a frame before decoding the operation: its messageID and the
 * protocolOp tag. undefined id = the envelope itself is unreadable. */
export function peekFrame(frame) {
  const env = readTlv(frame, 0, frame.length);
  if (!env || env.tag !== 0x30) return {};
  const idEl = readTlv(frame, env.start, env.end);
  if (!idEl || idEl.tag !== 0x02) return {};
  const n = idEl.end - idEl.start;
  if (n === 0 || n > 6) return {};
  let id = frame[idEl.start] & 0x80 ? -1 : 0;
  for (let i = idEl.start; i < idEl.end; i++) id = id * 256 + frame[i];
  if (id < 0 || id > 2147483647) return {};
  const op = readTlv(frame, idEl.end, env.end);
  if (!op) return { id };
  if (op.tag === OP.abandon) {
    // The server reads an Abandon's content as an unsigned big-endian number.
    let abandons = 0;
    for (let i = op.start; i < op.end; i++) abandons = abandons * 256 + frame[i];
    return { id, tag: op.tag, abandons };
  }
  return { id, tag: op.tag };
}

// ------------------------------------------------------------------------------------ responses

/** Parses what the server sent into LDAPMessages; `rest` holds an incomplete tail. */
export function parseResponses(buf) {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 2) break;
    const env = readTlv(buf, off, buf.length);
    if (!env) {
      // Either incomplete or garbage: incomplete if the header itself says "more to come".
      const hdr = splitFrames(buf.subarray(off), Infinity);
      if (hdr.tail === 'incomplete') break;
      return { messages: out, rest: buf.subarray(off), error: `unparseable bytes from the server at ${off}: ${buf.subarray(off, off + 16).toString('hex')}` };
    }
    const m = parseMessage(buf, env);
    if (m.error) return { messages: out, rest: buf.subarray(off), error: m.error };
    out.push(m);
    off = env.end;
  }
  return { messages: out, rest: buf.subarray(off) };
}

function parseMessage(buf, env) {
  const bad = (why) => ({ error: `malformed response (${why}): ${buf.subarray(env.start - 2, Math.min(env.end, env.start + 40)).toString('hex')}` });
  if (env.tag !== 0x30) return bad('not a SEQUENCE');
  const idEl = readTlv(buf, env.start, env.end);
  if (!idEl || idEl.tag !== 0x02 || idEl.end === idEl.start) return bad('no messageID');
  let id = 0;
  for (let i = idEl.start; i < idEl.end; i++) id = id * 256 + buf[i];
  const op = readTlv(buf, idEl.end, env.end);
  if (!op) return bad('no protocolOp');
  const m = { id, tag: op.tag };
  if (op.end !== env.end) {
    const ctl = readTlv(buf, op.end, env.end);
    if (!ctl || ctl.tag !== 0xa0 || ctl.end !== env.end) return bad('trailing bytes after protocolOp');
  }
  if (RESULT_TAGS.has(op.tag)) {
    const code = readTlv(buf, op.start, op.end);
    if (!code || code.tag !== 0x0a || code.end === code.start) return bad('no resultCode');
    m.code = 0;
    for (let i = code.start; i < code.end; i++) m.code = m.code * 256 + buf[i];
    const matched = readTlv(buf, code.end, op.end);
    if (!matched || matched.tag !== 0x04) return bad('no matchedDN');
    const diag = readTlv(buf, matched.end, op.end);
    if (!diag || diag.tag !== 0x04) return bad('no diagnosticMessage');
    m.message = buf.toString('utf8', diag.start, diag.end);
    let p = diag.end;
    while (p < op.end) {
      const el = readTlv(buf, p, op.end);
      if (!el) return bad('bad element after the result');
      if (el.tag === 0x8a) m.name = buf.toString('utf8', el.start, el.end);
      p = el.end;
    }
  } else if (op.tag === 0x64) {
    const dn = readTlv(buf, op.start, op.end);
    if (!dn || dn.tag !== 0x04) return bad('entry without DN');
    const attrs = readTlv(buf, dn.end, op.end);
    if (!attrs || attrs.tag !== 0x30 || attrs.end !== op.end) return bad('entry without attributes');
  } else if (op.tag !== 0x73) {
    return bad(`unknown response tag 0x${op.tag.toString(16)}`);
  }
  return m;
}

export const isNotice = (m) => m.id === 0 && m.tag === 0x78 && m.name === NOTICE_OF_DISCONNECTION;

// ------------------------------------------------------------------------------------ runner

const tick = (ms) => new Promise((res) => (ms ? setTimeout(res, ms) : setImmediate(res)));

/**
 * Sends one case and judges the server's behaviour.
 * @returns {Promise<{ outcome: string, problems: Array<{kind, detail}>, ms: number }>}
 */
export function runCase({ host, port, timeoutMs = 2000, maxMessageBytes = 256 * 1024 }, c) {
  const split = splitFrames(c.stream, maxMessageBytes);
  // What the server must do with each complete frame, in order.
  let owed = 0; // final responses owed, if nothing closes the connection first
  let mustClose = split.tail === 'bad';
  let unbindSent = false;
  const allowed = new Map(); // messageID -> Set of response tags it may get
  const searchesOwed = new Map(); // messageID -> searches not yet answered nor abandoned
  for (const f of split.frames) {
    const { id, tag, abandons } = peekFrame(f);
    // An Abandon of an earlier search of this stream: that search may get no answer at all
    // (RFC 4511 §4.11), so it is no longer owed.
    if (tag === OP.abandon && abandons !== undefined && searchesOwed.get(abandons) > 0) {
      searchesOwed.set(abandons, searchesOwed.get(abandons) - 1);
      owed--;
    }
    if (id === undefined || tag === undefined) {
      mustClose = true;
      break;
    }
    const resp = RESPONSE_OF.get(tag);
    if (tag === OP.unbind) {
      unbindSent = true;
      mustClose = true;
      break;
    }
    if (tag !== OP.abandon && !resp) {
      mustClose = true; // unknown operation
      break;
    }
    if (resp) {
      owed++;
      if (!allowed.has(id)) allowed.set(id, new Set());
      allowed.get(id).add(resp);
      if (tag === OP.search) {
        allowed.get(id).add(0x64).add(0x73);
        searchesOwed.set(id, (searchesOwed.get(id) ?? 0) + 1);
      }
    }
  }

  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect(port, host);
    sock.setNoDelay(true);
    const received = [];
    let receivedBytes = 0;
    let closed = false;
    let writing = true;
    let last = Date.now();
    let finished = false;
    let parsed = { messages: [], rest: Buffer.alloc(0) };

    const finals = () => parsed.messages.filter((m) => RESULT_TAGS.has(m.tag) && !isNotice(m)).length;
    const done = () => closed || (!writing && !mustClose && finals() >= owed && parsed.rest.length === 0);

    const finish = (why) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      sock.destroy();
      const problems = judge(why);
      const notice = parsed.messages.some(isNotice);
      const outcome = why === 'timeout' ? 'stalled' : closed ? (notice ? 'closed-with-notice' : unbindSent ? 'closed-after-unbind' : 'closed') : split.tail === 'incomplete' ? 'waiting-for-more' : 'answered';
      resolve({ outcome, problems, ms: Date.now() - started });
    };

    const judge = (why) => {
      const problems = [];
      const p = (kind, detail) => problems.push({ kind, detail });
      if (parsed.error) p('bad-response', parsed.error);
      if (closed && parsed.rest.length) p('bad-response', `connection closed in the middle of a response (${parsed.rest.length} bytes left)`);
      const msgs = parsed.messages;
      const ni = msgs.findIndex(isNotice);
      if (ni >= 0) {
        const n = msgs[ni];
        if (n.code !== 2) p('bad-notice', `Notice of Disconnection with resultCode ${n.code}`);
        if (ni !== msgs.length - 1) p('after-notice', `${msgs.length - 1 - ni} message(s) after the Notice of Disconnection`);
      }
      for (const m of msgs) {
        if (isNotice(m)) continue;
        const ok = allowed.get(m.id);
        if (!ok || !ok.has(m.tag)) p('unexpected-response', `response tag 0x${m.tag.toString(16)} for messageID ${m.id}, which asked for ${ok ? [...ok].map((t) => '0x' + t.toString(16)).join('/') : 'nothing'}`);
        if (m.code === 1 || m.code === 80) p('internal-error', `messageID ${m.id}: resultCode ${m.code} ${JSON.stringify(m.message)}`);
      }
      if (closed && ni < 0 && !unbindSent) p('closed-without-notice', `the server closed the connection without a Notice of Disconnection (${split.frames.length} frame(s), tail ${split.tail})`);
      if (why === 'timeout') {
        if (mustClose && !closed) p('hang', `the connection should have been closed (${split.tail === 'bad' ? `framing: ${split.reason}` : 'an unreadable or final message'}) but is still open after ${timeoutMs} ms without progress`);
        else p('hang', `${owed - finals()} of ${owed} response(s) still missing after ${timeoutMs} ms without progress`);
      }
      return problems;
    };

    const timer = setInterval(() => {
      if (!writing && Date.now() - last > timeoutMs) finish('timeout');
    }, 25);
    sock.on('data', (d) => {
      received.push(d);
      receivedBytes += d.length;
      last = Date.now();
      parsed = parseResponses(received.length === 1 ? received[0] : Buffer.concat(received, receivedBytes));
      if (parsed.error) return finish('bad-response');
      if (done()) finish('done');
    });
    sock.on('close', () => {
      closed = true;
      last = Date.now();
      finish('closed');
    });
    sock.on('error', () => {});
    sock.on('connect', async () => {
      for (const w of c.writes) {
        if (closed || sock.destroyed || finished) break;
        sock.write(w);
        if (c.writes.length > 1) await tick(c.gapMs);
      }
      writing = false;
      last = Date.now();
      if (done()) finish('done');
    });
  });
}

/**
 * Runs cases [first, first+count) (or until `deadline`), `concurrency` connections at a time.
 * `onCase(result, case)` sees every result. Returns a summary with every problem.
 */
export async function runFuzz({ host, port, seed, count = 1000, first = 0, vocab = defaultVocab(), concurrency = 8, timeoutMs = 2000, maxMessageBytes = 256 * 1024, deadline, onCase, maxProblems = 50 }) {
  const outcomes = {};
  const problems = [];
  let ran = 0;
  let next = first;
  const end = first + count;
  const worker = async () => {
    while (next < end && (deadline === undefined || Date.now() < deadline) && problems.length < maxProblems) {
      const index = next++;
      const c = fuzzCase(seed, index, vocab, { maxMessageBytes });
      const res = await runCase({ host, port, timeoutMs, maxMessageBytes }, c);
      ran++;
      outcomes[res.outcome] = (outcomes[res.outcome] ?? 0) + 1;
      for (const pr of res.problems) {
        problems.push({ ...pr, index, label: c.label, replay: `DLB_FUZZ_SEED=${seed} DLB_FUZZ_CASE=${index}`, hex: c.stream.length <= 2048 ? c.stream.toString('hex') : `${c.stream.subarray(0, 2048).toString('hex')}… (${c.stream.length} bytes)` });
      }
      onCase?.(res, c);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seed, ran, outcomes, problems };
}

/** One round trip on a fresh connection: WhoAmI must come back within `timeoutMs`. */
export async function probe({ host, port, timeoutMs = 2000 }) {
  const c = { stream: encode(message(1, whoami())), label: 'probe', writes: [] };
  c.writes = [c.stream];
  const res = await runCase({ host, port, timeoutMs }, c);
  return res.outcome === 'answered' && res.problems.length === 0 ? undefined : `${res.outcome}: ${JSON.stringify(res.problems)}`;
}

export function formatProblems(problems, limit = 20) {
  return problems
    .slice(0, limit)
    .map((p) => `- [${p.kind}] case ${p.index} (${p.replay}): ${p.detail}\n    generated: ${p.label}\n    bytes: ${p.hex}`)
    .join('\n');
}
