// The listen URLs (ldap://host:port, ldaps://host:port): the one parser, used by the config
// loader to check them and by the server and `doctor` to use them.
//
// Hand-written rather than `new URL()`: for ldap: (not a "special" scheme) WHATWG URL accepts
// what we must refuse (no port, a path, user:password@, percent-encoded hosts) and fills in
// nothing useful, so a small exact pattern says more clearly what is accepted.

export interface ListenAddress {
  host: string;
  port: number;
  secure: boolean;
  /** Expects a PROXY protocol header before LDAP. */
  proxy?: boolean;
}

/** A listen URL that is not ldap://host:port or ldaps://host:port; the message reads as a
 * setting's problem ("must be ..."). */
export class InvalidListenUrlError extends Error {
  constructor(url: string) {
    super(`must be ldap://host:port or ldaps://host:port with both a host and a port from 0 to 65535, e.g. ldap://127.0.0.1:3389 (got ${JSON.stringify(url)})`);
    this.name = 'InvalidListenUrlError';
  }
}

// scheme, host (a bracketed IPv6 address or a name/IPv4 address), port; an optional final "/".
const LISTEN_URL = /^(ldaps?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})\/?$/i;

/** The address a listen URL names. Both the host and the port are required: a listener on a
 * guessed address is worse than a clear refusal. Throws InvalidListenUrlError. */
export function parseListenUrl(url: string): ListenAddress {
  const m = LISTEN_URL.exec(url);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidListenUrlError(url);
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port, secure: m[1]!.toLowerCase() === 'ldaps' };
}
