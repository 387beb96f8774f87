// src/django/hashers/scrypt.ts: scrypt against Django-made values.
import { scrypt } from '../../../../dist/django/hashers/scrypt.js';
import { hasherSuite } from './hasher-suite.js';

hasherSuite(scrypt, (v) => {
  // scrypt$<N>$<salt>$<r>$<p>$<key>
  const [, n, , r, p] = v.encoded.split('$');
  return { hasher: 'scrypt', workFactor: Number(n), blockSize: Number(r), parallelism: Number(p) };
});
