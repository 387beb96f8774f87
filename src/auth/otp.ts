// TOTP checking as django-otp's TOTPDevice.verify_token does it (RFC 6238 over RFC 4226 HOTP).
// Hand-written on Node's crypto HMAC: a few lines, and libraries such as otplib do not implement
// django-otp's rules — the device's drift, ±tolerance steps around it, and refusing any time step
// at or below the device's last_t — which decide whether Django would accept the same code.
import { createHmac } from 'node:crypto';

import type { TotpDeviceRow } from '../directory/model.js';

/** A TOTP device as django-otp stores it in otp_totp_totpdevice (the directory model's row; the
 * check needs no id). */
export type TotpDevice = Omit<TotpDeviceRow, 'id'>;

/** RFC 4226 HOTP value for counter `counter` (HMAC-SHA1, dynamic truncation). */
export function hotp(key: Buffer, counter: number, digits: number): number {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return bin % 10 ** digits;
}

/** The time step django-otp's TOTP.t() gives at `nowSeconds` with `drift`. */
export function timeStep(device: Pick<TotpDevice, 'step' | 't0'>, nowSeconds: number, drift: number): number {
  return Math.floor((nowSeconds - device.t0) / device.step) + drift;
}

/** The code a device shows at `nowSeconds` (zero-padded to its digits). */
export function totpCode(device: Pick<TotpDevice, 'key' | 'step' | 't0' | 'digits' | 'drift'>, nowSeconds: number): string {
  const value = hotp(Buffer.from(device.key, 'hex'), timeStep(device, nowSeconds, device.drift), device.digits);
  return String(value).padStart(device.digits, '0');
}

export interface TotpVerdict {
  /** The time step the code matched, which becomes unusable afterwards. */
  t: number;
  /** The drift django-otp would store (OTP_TOTP_SYNC). */
  drift: number;
}

/**
 * django-otp's verdict for `token` at `nowSeconds`: the matched step, or undefined. As django-otp,
 * the token is compared as an integer (int(token)), each offset in -tolerance..+tolerance around
 * the stored drift is tried in order, and a step must be above last_t. Unconfirmed devices never
 * match (django-otp's match_token only consults confirmed devices).
 */
export function verifyTotp(device: TotpDevice, token: string, nowSeconds: number): TotpVerdict | undefined {
  if (!device.confirmed) return undefined;
  const trimmed = token.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const wanted = Number(trimmed);
  const key = Buffer.from(device.key, 'hex');
  for (let offset = -device.tolerance; offset <= device.tolerance; offset++) {
    const drift = device.drift + offset;
    const t = timeStep(device, nowSeconds, drift);
    if (t < device.lastT + 1 || t < 0) continue;
    if (hotp(key, t, device.digits) === wanted) return { t, drift };
  }
  return undefined;
}
