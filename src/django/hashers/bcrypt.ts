// Django's BCryptSHA256PasswordHasher (bcrypt of the hex SHA-256 of the password) and
// BCryptPasswordHasher (bcrypt of the password's first 72 bytes):
// `<algorithm>$$2b$<rounds>$<22-char salt><31-char hash>`, checked as bcrypt.hashpw() with the
// stored value as its salt, compared whole.

import { createHash, randomBytes } from 'node:crypto';
import bcryptBinding from '@node-rs/bcrypt';
import type { Hasher } from './hasher.js';
import { constantTimeEqual, malformed, pySplit, utf8 } from './util.js';

export interface BcryptParsed {
  /** 2a, 2b or 2y, as stored: hashpw() gives back the prefix it was given. */
  prefix: string;
  rounds: number;
  salt: Buffer;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BCRYPT_RE = /^\$(2[aby])\$([0-9]{2})\$([./A-Za-z0-9]{22})[./A-Za-z0-9]{31}$/;

/** bcrypt's own base64 (./A-Za-z0-9, no padding), decoded to `len` bytes. */
function bcryptB64Decode(s: string, len: number): Buffer {
  const out = Buffer.alloc(len);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const ch of s) {
    const v = BCRYPT_ALPHABET.indexOf(ch);
    if (v < 0) malformed();
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < len) out[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (n < len) malformed();
  return out;
}

/** bcrypt's own base64 of `buf`: characters from ./A-Za-z0-9 only. */
export function bcryptB64Encode(buf: Buffer): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const byte of buf) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      s += BCRYPT_ALPHABET[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += BCRYPT_ALPHABET[(acc << (6 - bits)) & 0x3f];
  return s;
}

function bcryptHasher<const Name extends string>(
  algorithm: Name,
  /** what bcrypt hashes for `password` (its UTF-8 bytes); throws Malformed where Django raises */
  bcryptInput: (password: Buffer) => Buffer,
  refusesNul: boolean,
): Hasher<BcryptParsed, Name> {
  return {
    algorithm,
    refusesNul,
    parse(encoded) {
      // algorithm, data = encoded.split('$', 1); bcrypt.hashpw(password, data)
      const [name, data] = pySplit(encoded, '$', 1);
      if (name !== algorithm || data === undefined) malformed();
      // hashpw() accepts $2a$ / $2b$ ($2y$ is normalised to $2b$ and restored), a two-digit
      // cost 04..31 and a 22-char salt; its 60-char output is compared with `data` whole.
      const m = BCRYPT_RE.exec(data);
      if (!m) malformed();
      const rounds = Number(m[2]);
      if (rounds < 4 || rounds > 31) malformed();
      return { prefix: m[1] as string, rounds, salt: bcryptB64Decode(m[3] as string, 16) };
    },
    async check({ prefix, rounds, salt }, password, encoded) {
      const computed = await bcryptBinding.hash(bcryptInput(utf8(password)), rounds, salt);
      // hashpw() returns the stored prefix ($2a$, $2b$, $2y$) with the computed rest.
      return constantTimeEqual(encoded, `${algorithm}$$${prefix}$${computed.slice(4)}`);
    },
    cost: ({ rounds }) => ({ hasher: algorithm, rounds }),
    lookalike(parsed) {
      const p = { ...parsed, salt: randomBytes(16) };
      const rest = bcryptB64Encode(p.salt) + bcryptB64Encode(randomBytes(23));
      const encoded = `${algorithm}$$${p.prefix}$${String(p.rounds).padStart(2, '0')}$${rest}`;
      return { parsed: p, encoded };
    },
  };
}

// bcrypt of the 64 lower-case hex chars of SHA-256(password)
export const bcryptSha256 = bcryptHasher(
  'bcrypt_sha256',
  (password) => Buffer.from(createHash('sha256').update(password).digest('hex'), 'ascii'),
  false,
);

export const bcrypt = bcryptHasher(
  'bcrypt',
  (password) => {
    if (password.includes(0)) malformed(); // bcrypt.hashpw: "password may not contain NUL bytes"
    return password.subarray(0, 72); // bcrypt reads only the first 72 bytes
  },
  true,
);
