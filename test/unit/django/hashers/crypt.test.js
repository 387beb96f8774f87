// src/django/hashers/crypt.ts: DES crypt against Django-made values.
import { crypt } from '../../../../dist/django/hashers/crypt.js';
import { hasherSuite } from './hasher-suite.js';

hasherSuite(crypt, (v) => ({ hasher: v.hasher }));
