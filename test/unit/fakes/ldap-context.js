// An LDAP context (what every operation handler shares) over a store fake, with the log
// captured as parsed JSON lines; sessions as a connection opens them; requests dispatched and
// answers decoded as a client reads them. Unit tests of the operations run them this way,
// without sockets or a database.
import { Writable } from 'node:stream';
import { Directory } from '../../../dist/directory/directory.js';
import { BridgeContext } from '../../../dist/ldap/context.js';
import { Dit } from '../../../dist/ldap/dit.js';
import { Authenticator } from '../../../dist/auth/authenticator.js';
import { HashGate } from '../../../dist/auth/hash-gate.js';
import { CredentialCache } from '../../../dist/auth/credential-cache.js';
import { MemoryCounters, Throttle } from '../../../dist/auth/throttle.js';
import { Metrics } from '../../../dist/metrics.js';
import { createLogger } from '../../../dist/log.js';
import { BerReader } from '../../../dist/ldap/ber.js';
import { dispatch } from '../../../dist/ldap/dispatch.js';
import { parseFilter } from '../../../dist/ldap/filter.js';

export const BASE = 'dc=example,dc=com';

/** The settings the operations read, as the config loader's defaults give them. */
export function testConfig({ tree = {}, anonymousSearch = false, limits = {} } = {}) {
  return {
    tree: { baseDn: BASE, usersOu: 'users', groupsOu: 'groups', permissionsOu: 'permissions', rolesOu: 'roles', servicesOu: 'services', ...tree },
    serviceAccounts: [],
    anonymous: { search: anonymousSearch },
    caseInsensitiveUsernames: false,
    showInactiveUsers: false,
    limits: {
      maxSearchEntries: 1000,
      maxSearchSeconds: 30,
      maxMessageBytes: 1 << 20,
      filterMaxDepth: 32,
      filterMaxElements: 512,
      maxRequestedAttributes: 100,
      maxConnections: 100,
      maxConnectionsPerAddress: 100,
      idleTimeoutSeconds: 300,
      messageTimeoutSeconds: 30,
      maxOutstandingPerConnection: 64,
      anonymousSearchEntries: 100,
      ...limits,
    },
    security: {
      requireTls: 'never',
      bruteForce: { enabled: false, userFailures: 5, userWindowSeconds: 60, addressFailures: 50, addressWindowSeconds: 60, lockoutSeconds: 60, maxLockoutSeconds: 600, trustedAddresses: [] },
    },
    tls: null,
  };
}

/**
 * A context over `store`. services: [{ dn, password: a Django hash }]; logLevel: the bridge's
 * log.level (default info, the bridge's default). Returns the context and `logs`, every log line
 * written so far, parsed.
 */
export function testContext(store, { services = [], logLevel = 'info', ...opts } = {}) {
  const config = testConfig(opts);
  const dit = new Dit(config.tree, config.caseInsensitiveUsernames);
  const directory = new Directory(store, { caseInsensitiveUsernames: false, showInactiveUsers: false });
  const logs = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  const log = createLogger({ level: logLevel, format: 'json' }, sink);
  const throttle = new Throttle(config.security.bruteForce, new MemoryCounters());
  const auth = new Authenticator(directory, new HashGate(1, 16), new CredentialCache(0, 0), throttle, log, false);
  const accounts = services.map((s) => ({ dn: s.dn, key: dit.key(s.dn), password: s.password }));
  const ctx = new BridgeContext(config, dit, directory, log, accounts, 'test', auth, new Metrics());
  return { ctx, logs };
}

let nextSession = 1;

/** A fresh connection's session: anonymous unless told otherwise. */
export function testSession(identity = { kind: 'anonymous' }) {
  return { id: nextSession++, peer: '127.0.0.1:40000', address: '127.0.0.1', identity, tls: false, tlsRequired: false, trusted: false, running: new Map(), paged: new Map() };
}

/** One answer as the client reads it: a search entry ({ dn, attributes }) or a result
 * ({ code, matchedDN, message, name, value, controls }), with its message id and protocolOp tag. */
export function decodeReply(buf) {
  const msg = new BerReader(buf).sequence(0x30);
  const id = msg.integer();
  const op = msg.any();
  const b = op.body;
  if (op.tag === 0x64) {
    const dn = b.string();
    const attributes = {};
    const list = b.sequence(0x30);
    while (!list.done) {
      const a = list.sequence(0x30);
      const type = a.string();
      const set = a.sequence(0x31);
      const values = [];
      while (!set.done) values.push(set.string());
      attributes[type] = values;
    }
    return { id, tag: op.tag, dn, attributes };
  }
  const reply = { id, tag: op.tag, code: b.enumerated(), matchedDN: b.string(), message: b.string() };
  if (b.peek() === 0x8a) reply.name = b.string(0x8a);
  if (b.peek() === 0x8b) reply.value = b.bytes(0x8b).toString('utf8');
  if (!msg.done) {
    reply.controls = [];
    const cs = msg.sequence(0xa0);
    while (!cs.done) {
      const c = cs.sequence(0x30);
      const control = { oid: c.string() };
      if (c.peek() === 0x01) control.critical = c.boolean();
      if (c.peek() === 0x04) control.value = c.bytes();
      reply.controls.push(control);
    }
  }
  return reply;
}

let nextMessage = 1;

/** Runs one request through dispatch() as a connection would; resolves the decoded answers. */
export async function dispatchOnce(ctx, session, request, controls = []) {
  const replies = [];
  await dispatch(ctx, session, { id: nextMessage++, request, controls }, (b) => replies.push(decodeReply(b)), async () => {});
  return replies;
}

/** A search request as a client sends it. */
export function searchRequest(base, filter = '(objectClass=*)', { scope = 2, attributes = [], sizeLimit = 0 } = {}) {
  return { op: 'search', base, scope, deref: 0, sizeLimit, timeLimit: 0, typesOnly: false, filter: parseFilter(filter), attributes };
}
