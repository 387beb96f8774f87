// src/django/hashers/bcrypt.ts: bcrypt_sha256 and bcrypt against Django-made values.
import { bcrypt, bcryptSha256 } from '../../../../dist/django/hashers/bcrypt.js';
import { hasherSuite } from './hasher-suite.js';

// <algorithm>$$2b$<rounds>$<salt and hash>
const costOf = (v) => ({ hasher: v.hasher, rounds: Number(v.encoded.split('$')[3]) });
hasherSuite(bcryptSha256, costOf);
hasherSuite(bcrypt, costOf);
