// The bridge's TOTP verdict compared, code by code, with real django-otp's (django_otp.oath.TOTP,
// which TOTPDevice.verify_token calls with tolerance and min_t = last_t + 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PYTHON } from '../../helpers/django.js';
import { need } from '../../helpers/require.js';
import { totpCode, verifyTotp } from '../../../dist/auth/otp.js';

const probe = spawnSync(PYTHON, ['-c', 'import django_otp.oath'], { stdio: 'ignore' });
const skip = need('django-otp', probe.status === 0, `${PYTHON} cannot import django_otp (apt-get install python3-django-otp)`);

const script = `
import json, sys
from binascii import unhexlify
from django_otp.oath import TOTP
out = []
for c in json.load(sys.stdin):
    d = c['device']
    totp = TOTP(unhexlify(d['key']), d['step'], d['t0'], d['digits'], d['drift'])
    totp.time = c['now']
    try:
        token = int(c['token'])
    except ValueError:
        out.append(None); continue
    ok = totp.verify(token, d['tolerance'], d['lastT'] + 1)
    out.append({'t': totp.t(), 'drift': totp.drift} if ok else None)
print(json.dumps(out))
`;

test('every verdict matches django-otp (steps around now, tolerance, drift, last_t, 6 and 8 digits, wrong codes)', { skip }, () => {
  const cases = [];
  const now = 1_700_000_000 + 7;
  for (const digits of [6, 8]) for (const tolerance of [0, 1, 2]) for (const drift of [-1, 0, 2]) for (const lastOffset of [null, -2, 0]) {
    const device = { key: randomBytes(20).toString('hex'), step: 30, t0: 0, digits, tolerance, drift, confirmed: true, lastT: -1 };
    if (lastOffset !== null) device.lastT = Math.floor(now / 30) + drift + lastOffset;
    for (let shift = -4; shift <= 4; shift++) {
      const code = totpCode(device, now + shift * 30);
      cases.push({ device, now, token: code });
      cases.push({ device, now, token: String((Number(code) + 1) % 10 ** digits).padStart(digits, '0') });
    }
    cases.push({ device, now, token: 'x12345' });
  }
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const django = JSON.parse(r.stdout);
  let accepted = 0;
  cases.forEach((c, i) => {
    const ours = verifyTotp(c.device, c.token, c.now) ?? null;
    assert.deepEqual(ours, django[i], `case ${i}: ${JSON.stringify(c)}`);
    if (ours) accepted++;
  });
  assert.ok(accepted > 20 && accepted < cases.length / 2, `a mix of accepted and refused codes (${accepted}/${cases.length})`);
});
