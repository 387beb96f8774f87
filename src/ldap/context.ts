// What every operation handler shares: the tree, the directory, the config, the log, and the
// per-connection session (who is bound).
import type { Logger } from 'pino';
import type { BridgeConfig } from '../config/types.js';
import type { Directory } from '../directory/directory.js';
import type { Dit } from './dit.js';
import type { Equality } from './schema.js';
import { attributeType } from './schema.js';
import { USERNAME_CASE_KEYS } from './attributes.js';
import type { MatchContext } from './filter.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Metrics } from '../metrics.js';
import type { Cursors } from './paging.js';
import type { Writes } from '../auth/writes.js';

export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'service'; dn: string }
  | { kind: 'user'; dn: string; userId: number; username: string };

export interface Session {
  readonly id: number;
  /** address:port of the client (from the PROXY header behind a load balancer). */
  peer: string;
  /** The client's IP address (the key of per-address brute-force counting). */
  address: string;
  identity: Identity;
  /** The connection runs over TLS (ldaps:// or after StartTLS). */
  tls: boolean;
  /** Password binds need TLS on this connection (security.requireTls). */
  readonly tlsRequired: boolean;
  /** Has bound as a service account: exempt from per-address brute-force counting. */
  trusted: boolean;
  /** The service account it bound as (kept after later binds, as `trusted` is): a reload
   * that removes or changes that account closes the connection. */
  service?: ServiceAccountEntry;
  /** This connection's logger (conn and peer bound), made at its first operation. */
  log?: Logger;
  /** Simple Paged Results cursors of this connection, by cookie. */
  readonly paged: Cursors;
  /** Aborted when the connection closes or the client unbinds: its queued binds are then
   * dropped before their hash (a client without a connection has none). */
  gone?: AbortSignal;
  /** Searches queued or in progress by message id, to honour Abandon. */
  readonly running: Map<number, RunningSearch>;
  /** This connection asked for userPassword and was told, once, that no hashes are served. */
  toldNoHashes?: boolean;
}

export interface RunningSearch {
  abandoned: boolean;
  /** Entries sent so far (its log line counts them, however it ends). */
  entries: number;
}

export interface ServiceAccountEntry {
  dn: string;
  key: string;
  password: string;
  /** May set any user's password (Password Modify). */
  passwordAdministrator: boolean;
}

export class BridgeContext implements MatchContext {
  readonly caseExactDnTypes: ReadonlySet<string>;
  /** The opt-in writes (writes.*), set by `serve` when one is on; undefined: nothing is written. */
  writes: Writes | undefined = undefined;

  constructor(
    readonly config: BridgeConfig,
    readonly dit: Dit,
    readonly directory: Directory,
    readonly log: Logger,
    readonly serviceAccounts: ServiceAccountEntry[],
    readonly version: string,
    readonly auth: Authenticator,
    readonly metrics: Metrics,
  ) {
    this.caseExactDnTypes = dit.caseExactTypes;
  }

  equalityOf(key: string): Equality {
    if (USERNAME_CASE_KEYS.has(key)) return this.config.caseInsensitiveUsernames ? 'caseIgnore' : 'caseExact';
    return attributeType(key)?.equality ?? 'caseIgnore';
  }

  serviceAccount(dnKey: string): ServiceAccountEntry | undefined {
    return this.serviceAccounts.find((s) => s.key === dnKey);
  }
}
