// Request and response controls the bridge implements.
import { BerReader, integer, octets, sequence } from './ber.js';

/** Simple Paged Results (RFC 2696): realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }. */
export function decodePagedControl(value: Buffer | undefined): { size: number; cookie: Buffer } {
  if (!value) throw new Error('paged results control without a value');
  const seq = new BerReader(value).sequence(0x30);
  const size = seq.integer();
  const cookie = seq.bytes();
  if (size < 0) throw new Error('negative page size');
  return { size, cookie };
}

export function encodePagedControl(size: number, cookie: Buffer): Buffer {
  return sequence([integer(size), octets(cookie)]);
}
