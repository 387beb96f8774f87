// src/django/hashers/salted.ts: salted sha1 and md5 against Django-made values.
import { md5, sha1 } from '../../../../dist/django/hashers/salted.js';
import { hasherSuite } from './hasher-suite.js';

// No parameters: every value costs one digest.
hasherSuite(sha1, (v) => ({ hasher: v.hasher }));
hasherSuite(md5, (v) => ({ hasher: v.hasher }));
