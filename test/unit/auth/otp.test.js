// TOTP as django-otp checks it: RFC 6238's SHA-1 test vectors, and django-otp's tolerance,
// drift and last_t rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hotp, totpCode, verifyTotp } from '../../../dist/auth/otp.js';

const rfcKey = Buffer.from('12345678901234567890').toString('hex');
const device = (over = {}) => ({ key: rfcKey, step: 30, t0: 0, digits: 8, tolerance: 1, drift: 0, confirmed: true, lastT: -1, ...over });

test('RFC 6238 appendix B SHA-1 vectors (8 digits)', () => {
  const vectors = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']];
  for (const [time, code] of vectors) assert.equal(totpCode(device(), time), code, `time ${time}`);
});

test('RFC 4226 appendix D HOTP vectors (6 digits)', () => {
  const expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
  expected.forEach((code, counter) => assert.equal(hotp(Buffer.from('12345678901234567890'), counter, 6), code));
});

test('tolerance, drift, last_t, wrong digits and unconfirmed devices', () => {
  const now = 1111111111;
  const d = device({ digits: 6 });
  const code = totpCode(d, now);
  assert.equal(verifyTotp(d, code, now).t, Math.floor(now / 30));
  assert.ok(verifyTotp(d, code, now + 30), 'one step late is within tolerance 1');
  assert.equal(verifyTotp(d, code, now + 60), undefined, 'two steps late is not');
  assert.equal(verifyTotp({ ...d, tolerance: 0 }, code, now + 30), undefined);
  assert.ok(verifyTotp({ ...d, tolerance: 0, drift: -1 }, code, now + 30), 'a stored drift shifts the window');
  assert.equal(verifyTotp({ ...d, lastT: Math.floor(now / 30) }, code, now), undefined, 'a step at last_t is refused');
  assert.equal(verifyTotp({ ...d, confirmed: false }, code, now), undefined);
  const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
  assert.equal(verifyTotp(d, wrong, now), undefined);
  assert.equal(verifyTotp(d, 'abcdef', now), undefined);
});
