// Checks the schema cannot express, on values it accepted: the database URL, the DNs (with the
// DN parser the server uses), the listen URLs (with the parser the server listens with), the
// PROXY protocol listeners, service accounts named twice, OUs that clash, and a reserved hash
// queue larger than the queue.
import { parseDn, normalizeDn, InvalidDnError, type Rdn } from '../ldap/dn.js';
import { parseListenUrl, InvalidListenUrlError } from '../ldap/listen-url.js';
import { ConfigError, parseDatabaseUrl } from './database-url.js';
import { DEFAULT_LISTEN } from './defaults.js';
import { schemaDefault } from './schema.js';
import { formatPath, get, type Obj, type Problem } from './document.js';

const DN_EXAMPLE = 'a DN is attribute=value pairs separated by commas, e.g. dc=example,dc=com';

/** The DN's RDNs, or why it is not a usable DN. The parser's reason is kept (it says where);
 * an empty value (dc=) is refused although RFC 4514 allows it: in a base or service DN it is
 * a slip, never meant. */
function checkDn(dn: string): { rdns: Rdn[] } | { problem: string } {
  if (dn.trim() === '') return { problem: 'must not be empty' };
  let rdns: Rdn[];
  try {
    rdns = parseDn(dn);
  } catch (e) {
    if (!(e instanceof InvalidDnError)) throw e;
    // The parser's message is 'Invalid DN "<dn>": <reason> at offset N'; the DN is shown once, here.
    const reason = e.message.replace(/^Invalid DN "(?:[^"\\]|\\.)*": /, '');
    return { problem: `${JSON.stringify(dn)} is not a valid DN: ${reason} (${DN_EXAMPLE})` };
  }
  if (rdns.some((rdn) => rdn.some((ava) => ava.value === ''))) return { problem: `${JSON.stringify(dn)} is not a valid DN: an attribute has an empty value (${DN_EXAMPLE})` };
  return { rdns };
}

function listenProblem(url: string, hasTls: boolean): string | undefined {
  if (/^ldaps:\/\//i.test(url) && !hasTls) {
    return `ldaps:// needs tls.cert and tls.key (PEM files); or listen on ldap://host:port (got ${JSON.stringify(url)})`;
  }
  try {
    parseListenUrl(url);
    return undefined;
  } catch (e) {
    if (e instanceof InvalidListenUrlError) return e.message;
    throw e;
  }
}

/** The problems of the merged document beyond the schema; `bad(path)` tells which settings the
 * schema already refused (they get no second message). */
export function semanticProblems(merged: Obj, cwd: string, bad: (path: string) => boolean): Problem[] {
  const out: Problem[] = [];
  const db = merged.database;
  if (typeof db === 'string' && db !== '' && !bad('database')) {
    try {
      parseDatabaseUrl(db, cwd);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const line of e.problems) out.push({ path: 'database', message: line.replace(/^database: /, '') });
    }
  }
  out.push(...writesProblems(merged, cwd, bad));
  out.push(...mfaProblems(merged, bad));
  const baseDn = merged.baseDn;
  if (typeof baseDn === 'string' && !bad('baseDn')) {
    const r = checkDn(baseDn);
    if ('problem' in r) out.push({ path: 'baseDn', message: r.problem });
  }
  const queue = get(merged, 'security', 'hashQueue') ?? schemaDefault(['security', 'hashQueue']);
  const reserved = get(merged, 'security', 'hashQueueReserved');
  if (typeof reserved === 'number' && typeof queue === 'number' && reserved > queue && !bad('security.hashQueueReserved')) {
    out.push({ path: 'security.hashQueueReserved', message: `must not exceed security.hashQueue (${queue})` });
  }
  if (Array.isArray(merged.listen)) {
    merged.listen.forEach((u, i) => {
      const path = formatPath(['listen', i]);
      if (typeof u !== 'string' || bad(path)) return;
      const why = listenProblem(u, !!get(merged, 'tls', 'cert'));
      if (why) out.push({ path, message: why });
    });
  }
  if (Array.isArray(merged.proxyProtocol)) {
    const listening = Array.isArray(merged.listen) ? merged.listen : [...DEFAULT_LISTEN];
    merged.proxyProtocol.forEach((u, i) => {
      if (typeof u === 'string' && !listening.includes(u)) out.push({ path: formatPath(['proxyProtocol', i]), message: `${JSON.stringify(u)} is not one of the listen URLs` });
      else if (typeof u === 'string' && /^ldaps:/i.test(u)) out.push({ path: formatPath(['proxyProtocol', i]), message: 'the PROXY protocol is supported on ldap:// listeners (use StartTLS behind the balancer)' });
    });
  }
  if (Array.isArray(merged.serviceAccounts)) {
    const seen = new Map<string, number>();
    merged.serviceAccounts.forEach((sa, i) => {
      const dn = get(sa, 'dn');
      const path = formatPath(['serviceAccounts', i, 'dn']);
      if (typeof dn !== 'string' || bad(path)) return;
      const r = checkDn(dn);
      if ('problem' in r) {
        out.push({ path, message: r.problem });
        return;
      }
      // Equal as LDAP compares DNs (case, spaces, attribute names), as the server would find them.
      const key = normalizeDn(r.rdns);
      const prev = seen.get(key);
      if (prev !== undefined) out.push({ path, message: `the same DN as serviceAccounts[${prev}].dn` });
      else seen.set(key, i);
    });
  }
  const tree = merged.tree;
  const ous: [string, string][] = (['users', 'groups', 'permissions', 'roles', 'services'] as const).map((k) => {
    const v = get(tree, k);
    return [k, typeof v === 'string' ? v : k];
  });
  for (let i = 0; i < ous.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ous[i]![1].trim().toLowerCase() === ous[j]![1].trim().toLowerCase()) {
        out.push({ path: `tree.${ous[i]![0]}`, message: `"${ous[i]![1]}" is also tree.${ous[j]![0]}; each OU must be different` });
      }
    }
  }
  return out;
}

/** The opt-in writes: a write connection of the same kind as the database, on a database the
 * bridge can write to, and the column last_login needs. */
/** mfa.require against the rest: what it names must be served, and a spent code must be
 * remembered by every process that could accept it again. */
function mfaProblems(merged: Obj, bad: (path: string) => boolean): Problem[] {
  const req = get(merged, 'mfa', 'require');
  if (typeof req !== 'string' || req === 'off' || bad('mfa.require')) return [];
  const out: Problem[] = [];
  if (req.startsWith('group:') && (get(merged, 'groups') === false || get(merged, 'users', 'groups') === false)) {
    out.push({ path: 'mfa.require', message: `${JSON.stringify(req)} names a group, but groups are not mapped (groups or users.groups is false)` });
  }
  if (req.startsWith('permission:') && get(merged, 'permissions') === false) {
    out.push({ path: 'mfa.require', message: `${JSON.stringify(req)} names a permission, but permissions are not mapped (permissions is false)` });
  }
  const workers = get(merged, 'workers') ?? schemaDefault(['workers']);
  const redis = get(merged, 'security', 'redis');
  if (workers !== 1 && typeof redis !== 'string') {
    out.push({ path: 'mfa.require', message: `with workers ${String(workers)} a one-time code must be remembered by every worker: set security.redis (or workers: 1)` });
  }
  return out;
}

function writesProblems(merged: Obj, cwd: string, bad: (path: string) => boolean): Problem[] {
  const out: Problem[] = [];
  const on = (['passwordModify', 'lastLogin', 'upgradeHashes'] as const).filter((k) => get(merged, 'writes', k) === true);
  const kindOf = (url: unknown, path: string): string | undefined => {
    if (typeof url !== 'string' || url === '' || bad(path)) return undefined;
    try {
      return parseDatabaseUrl(url, cwd).kind;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (path !== 'database') for (const line of e.problems) out.push({ path, message: line.replace(/^database: /, '') });
      return undefined;
    }
  };
  const readKind = kindOf(merged.database, 'database');
  const writeKind = kindOf(get(merged, 'writes', 'database'), 'writes.database');
  if (!on.length) return out;
  const what = on.map((k) => `writes.${k}`).join(', ');
  if (writeKind === undefined && readKind !== undefined && readKind !== 'sqlite' && !bad('writes.database')) {
    out.push({ path: 'writes.database', message: `${what} needs a write connection: the URL of a role that may UPDATE the user table (the read connection stays read-only)` });
  } else if (writeKind !== undefined && readKind !== undefined && writeKind !== readKind) {
    out.push({ path: 'writes.database', message: `a ${writeKind} URL for a ${readKind} database: it must reach the same database as \`database\`` });
  }
  if (get(merged, 'writes', 'lastLogin') === true && get(merged, 'users', 'columns', 'lastLogin') === null) {
    out.push({ path: 'writes.lastLogin', message: 'the user model has no last_login column (users.columns.lastLogin is null)' });
  }
  return out;
}
