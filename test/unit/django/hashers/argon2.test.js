// src/django/hashers/argon2.ts: argon2 (argon2id, argon2i, argon2d, with and without v=)
// against Django-made values.
import { argon2 } from '../../../../dist/django/hashers/argon2.js';
import { hasherSuite } from './hasher-suite.js';

// argon2$<variety>[$v=<version>]$m=<memory>,t=<time>,p=<lanes>$<salt>$<hash>; no v= is version
// 0x10 (the fixture's README, "Storage formats").
const STORED = /^argon2\$(argon2id|argon2i|argon2d)(?:\$v=(\d+))?\$m=(\d+),t=(\d+),p=(\d+)\$/;
hasherSuite(argon2, (v) => {
  const [, variety, version, m, t, p] = STORED.exec(v.encoded);
  return {
    hasher: 'argon2',
    variety,
    version: version === undefined ? 0x10 : Number(version),
    memoryCost: Number(m),
    timeCost: Number(t),
    parallelism: Number(p),
  };
});
