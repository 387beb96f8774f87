// `search <filter> [attributes...]`: the entries the bridge would send for a search, as LDIF,
// without starting a server. It runs the server's own search (src/ldap/ops/search.ts) with a
// service account's session, so the entries, their attributes and their order are exactly what
// a service account (Apache) receives. The exit code is the LDAP result code, as ldapsearch's.
import type { ConfigFlags } from '../config/load.js';
import { parseFilter, FilterError } from '../ldap/filter.js';
import type { Session } from '../ldap/context.js';
import { dispatchSearch as search } from '../ldap/dispatch.js';
import { ResultCode } from '../ldap/protocol.js';
import { CommandError, commandContext, commandLogger, loadCommandConfig, openCheckedStore } from './common.js';

export interface SearchOptions extends ConfigFlags {
  base?: string;
  scope?: 'base' | 'one' | 'sub';
  sizeLimit?: number;
}

/** RFC 2849: a value is written as base64 (`attr:: ...`) unless it is a SAFE-STRING: only
 * ASCII without NUL, LF or CR, not starting with a space, ":" or "<" (and, as the RFC
 * recommends, not ending with a space). */
export function ldifNeedsBase64(value: string): boolean {
  if (value === '') return false;
  // eslint-disable-next-line no-control-regex
  if (/[^\x01-\x09\x0b\x0c\x0e-\x7f]/.test(value)) return true;
  return /^[ :<]/.test(value) || value.endsWith(' ');
}

/** One LDIF line: `name: value` or `name:: base64`. */
export function ldifLine(name: string, value: string): string {
  return ldifNeedsBase64(value) ? `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}` : `${name}: ${value}`;
}

/** One entry as an LDIF record (with the blank line that ends it). */
export function ldifEntry(dn: string, attributes: Array<[string, readonly string[]]>): string {
  const lines = [ldifLine('dn', dn)];
  for (const [name, values] of attributes) for (const v of values) lines.push(ldifLine(name, v));
  return lines.join('\n') + '\n\n';
}

const RESULT_NAMES = new Map<number, string>(Object.entries(ResultCode).map(([k, v]) => [v, k]));
const SCOPES = { base: 0, one: 1, sub: 2 } as const;

export async function runSearch(filterText: string, attributes: string[], opts: SearchOptions): Promise<number> {
  const config = loadCommandConfig(opts);
  let filter;
  try {
    filter = parseFilter(filterText, { maxDepth: config.limits.filterMaxDepth, maxElements: config.limits.filterMaxElements });
  } catch (e) {
    if (e instanceof FilterError) throw new CommandError(`bad search filter: ${e.message}`, 2);
    throw e;
  }
  if (attributes.length > config.limits.maxRequestedAttributes) {
    throw new CommandError(`more than ${config.limits.maxRequestedAttributes} attributes requested (limits.maxRequestedAttributes)`, 11);
  }
  const store = await openCheckedStore(config);
  try {
    const ctx = await commandContext(config, store, commandLogger(config));
    // A service account's session: what Apache (AuthLDAPBindDN) is allowed to read.
    const session: Session = {
      id: 0,
      peer: 'cli',
      address: '127.0.0.1',
      identity: { kind: 'service', dn: config.serviceAccounts[0]?.dn ?? `cn=django-ldap-bridge,ou=${config.tree.servicesOu},${ctx.dit.baseDn}` },
      tls: true,
      tlsRequired: false,
      trusted: true,
      running: new Map(),
      paged: new Map(),
    };
    const req = {
      op: 'search' as const,
      base: opts.base ?? ctx.dit.baseDn,
      scope: SCOPES[opts.scope ?? 'sub'],
      deref: 0,
      sizeLimit: opts.sizeLimit ?? 0,
      timeLimit: 0,
      typesOnly: false,
      filter,
      attributes,
    };
    const r = await search(ctx, session, req, (e, sel) => process.stdout.write(ldifEntry(e.dn, e.select(sel))), () => false);
    if (r.code !== ResultCode.success) {
      const name = RESULT_NAMES.get(r.code) ?? 'error';
      process.stderr.write(`# result: ${r.code} ${name}${r.matchedDN ? `\n# matched DN: ${r.matchedDN}` : ''}${r.message ? `\n# text: ${r.message}` : ''}\n`);
    }
    return r.code;
  } finally {
    await store.close().catch(() => {});
  }
}
