// Behind a TCP load balancer: the PROXY protocol (v1 and v2) gives the bridge the real client
// address for its logs and its per-address brute-force counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoDatabase, startDemoBridge, userDn, password, rawConnect, bindRequest, resultCodes } from '../helpers/demo-bridge.js';

const v2 = (ip, port) => {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const body = Buffer.alloc(12);
  ip.split('.').forEach((x, i) => (body[i] = Number(x)));
  [127, 0, 0, 1].forEach((x, i) => (body[4 + i] = x));
  body.writeUInt16BE(port, 8);
  body.writeUInt16BE(3389, 10);
  return Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x00, 12]), body]);
};

test('a PROXY listener logs the original client address (v1 and v2) and throttles by it', async () => {
  const db = await demoDatabase(2000);
  const b = await startDemoBridge(db.url, { listen: ['ldap://127.0.0.1:0'], security: { bruteForce: { addressFailures: 2, userFailures: 100, lockoutSeconds: 30 } } });
  await b.close();
  // Port 0 cannot be named in proxyProtocol; pick the port the first run got.
  const url = `ldap://127.0.0.1:${b.port}`;
  const p = await startDemoBridge(db.url, { listen: [url], proxyProtocol: [url], security: { bruteForce: { addressFailures: 2, userFailures: 100, lockoutSeconds: 30 } } });
  try {
    const exchange = async (header, dn, pw) => {
      const s = await rawConnect(p.port);
      s.write(Buffer.concat([header, bindRequest(1, dn, pw)]));
      const codes = await s.waitResults(1);
      s.end();
      return codes[0];
    };
    assert.equal(await exchange(Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 51000 3389\r\n'), userDn('alice'), password('alice')), 0);
    assert.ok(p.logs.some((l) => l.includes('"peer":"203.0.113.7:51000"') && l.includes('"op":"bind"')), 'v1: the bind is logged with the client address');
    assert.equal(await exchange(v2('198.51.100.9', 40000), userDn('bob'), password('bob')), 0);
    assert.ok(p.logs.some((l) => l.includes('"peer":"198.51.100.9:40000"') && l.includes('"op":"bind"')), 'v2 too');
    // Two failures of one password from 203.0.113.7 lock that password out there (counted per
    // address and password); 198.51.100.9 is unaffected.
    assert.equal(await exchange(Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 51001 3389\r\n'), userDn('x1'), password('alice')), 49);
    assert.equal(await exchange(Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 51002 3389\r\n'), userDn('x2'), password('alice')), 49);
    assert.equal(await exchange(Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 51003 3389\r\n'), userDn('alice'), password('alice')), 49);
    assert.equal(await exchange(v2('198.51.100.9', 40001), userDn('alice'), password('alice')), 0);
    // Without a PROXY header the connection is dropped, not read as LDAP.
    const bare = await rawConnect(p.port);
    bare.write(bindRequest(1, userDn('alice'), password('alice')));
    assert.equal(await bare.waitClosed(1500), true);
    assert.deepEqual(resultCodes(bare.data()), []);
  } finally {
    await p.close();
  }
});
