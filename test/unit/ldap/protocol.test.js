// The one-pass encoder of plain LDAPResults (every bind, compare and search end) must write the
// very bytes the general TLV writer does, for every length form of id, code and strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResult } from '../../../dist/ldap/protocol.js';
import { tlv, integer, enumerated, octets } from '../../../dist/ldap/ber.js';

const general = (id, tag, r) => tlv(0x30, [integer(id), tlv(tag, [enumerated(r.code), octets(r.matchedDN ?? ''), octets(r.message ?? '')])]);

test('plain results: byte-identical to the general TLV writer', () => {
  let n = 0;
  for (const id of [0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 2 ** 23, 2 ** 31 - 1]) {
    for (const code of [0, 1, 49, 53, 127, 128, 4096]) {
      for (const message of ['', 'x', 'é'.repeat(100), 'a'.repeat(70000)]) {
        for (const matchedDN of [undefined, '', 'cn=Ünïcode\\, x,dc=example,dc=com']) {
          for (const tag of [0x61, 0x65, 0x6f]) {
            const r = { code, matchedDN, message };
            assert.deepEqual(encodeResult(id, tag, r), general(id, tag, r), JSON.stringify({ id, code, tag, len: message.length, matchedDN }));
            n++;
          }
        }
      }
    }
  }
  assert.equal(n, 12 * 7 * 4 * 3 * 3);
});
