// `django-ldap-bridge apache-config`: a ready Apache httpd 2.4 <Location> block for
// mod_authnz_ldap in front of this bridge, built from the bridge's own configuration.
//
// Everything here is pure (no I/O), so the output can be unit-tested and then run by a real
// Apache in test/e2e/apache.test.js. Three layers of quoting meet in one httpd.conf line, and each
// value is escaped for exactly the layers it passes through:
//
//   1. RFC 4514, for DN values (escapeDnValue, via Dit: the DNs the bridge itself serves);
//   2. Apache's expression parser (ap_expr, string mode), which httpd 2.4 runs over the
//      arguments of every `Require ldap-*` line and of AuthName: `\` escapes the next character,
//      `%{...}` is a variable and `$0`..`$9` a regex back-reference. So every `\` is written
//      `\\` (the "doubled backslashes" of cn=Smith\\, John's team), `%` as `\%` and `$` as `\$`;
//   3. the config-file tokenizer (ap_getword_conf), for quoted arguments such as AuthLDAPURL,
//      AuthLDAPBindDN, AuthName and the words of `Require ldap-user`: `\\` is one backslash and
//      `\"` a quote. Before any of this, httpd substitutes `${NAME}` (Define or environment)
//      on the raw line; it has no escape for that, so `${` must never reach a line literally.
import type { BridgeConfig, TreeLayout } from '../config/types.js';
import { Dit } from '../ldap/dit.js';
import { normalizeDn, parseDn } from '../ldap/dn.js';

export class ApacheConfigError extends Error {}

export const REQUIRE_KINDS = ['valid-user', 'user', 'group', 'permission', 'staff', 'superuser'] as const;
export type RequireKind = (typeof REQUIRE_KINDS)[number];

/** Where Apache finds the service account's plaintext password (it cannot use a hash). */
export type BindPassword = { env: string } | { exec: string };

export interface ApacheLocationOptions {
  /** URL path of the <Location>, e.g. /secret. */
  location: string;
  require: RequireKind;
  /** user names (user), group names (group), `app_label.codename` labels (permission). */
  names?: string[];
  /**
   * permission, staff, superuser: `group` (default) requires membership of the bridge's
   * permission/role group; `attribute` compares djangoPermission / djangoIsStaff /
   * djangoIsSuperuser on the user's own entry instead.
   */
  via?: 'group' | 'attribute';
  /** group: `member` (default, user DNs) or `memberUid` (user names, AuthLDAPGroupAttributeIsDN off). */
  groupAttribute?: 'member' | 'memberUid';
  /** AuthName, the realm the browser shows. */
  authName?: string;
  /** ldap://host:port or ldaps://host:port of the bridge (no path). */
  ldapUrl: string;
  tree: TreeLayout;
  caseInsensitiveUsernames?: boolean;
  /**
   * `service`: search and compare as a service account (AuthLDAPBindDN).
   * `user`: no service account; Apache binds as the user (AuthLDAPInitialBindAsUser) and
   * searches and compares with the user's own credentials.
   */
  bind: { as: 'service'; dn: string; password: BindPassword } | { as: 'user' };
  /** More user attributes to fetch; each becomes AUTHENTICATE_<ATTR> for the backend. */
  attributes?: string[];
  /** Text for the first comment line (the command that produced the block). */
  generatedBy?: string;
}

/** The default environment variable holding the service account's plaintext password. */
export const DEFAULT_PASSWORD_ENV = 'DLB_BIND_PASSWORD';

// ---------------------------------------------------------------------------------------------
// Escaping

function refuseNewlines(what: string, s: string): void {
  if (/[\r\n\0]/.test(s)) throw new ApacheConfigError(`${what}: line breaks and NUL cannot be written in httpd.conf (${JSON.stringify(s)})`);
}

function refuseEnvReference(what: string, s: string): void {
  if (s.includes('${')) {
    throw new ApacheConfigError(`${what}: ${JSON.stringify(s)} contains "\${", which httpd replaces with a variable on every config line and cannot be escaped`);
  }
}

/**
 * A quoted argument for the config-file tokenizer (ap_getword_conf): `\` -> `\\`, `"` -> `\"`.
 * Refuses `${` (httpd would substitute it) and line breaks.
 */
export function apacheQuote(s: string, what = 'value'): string {
  refuseNewlines(what, s);
  refuseEnvReference(what, s);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Text for httpd's expression parser in string mode (Require ldap-*, AuthName): `\ % $` escaped. */
export function apacheExprString(s: string, what = 'value'): string {
  refuseNewlines(what, s);
  refuseEnvReference(what, s);
  return s.replace(/[\\%$]/g, (c) => `\\${c}`);
}

/**
 * One word as `Require ldap-user` and `Require ldap-attribute` split them at request time
 * (ap_getword_conf): bare when it is plain, else double-quoted with `\` and `"` escaped.
 */
export function apacheWord(s: string, what = 'value'): string {
  if (s !== '' && !/[\s"'\\]/.test(s)) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A DN made for a `Require` line. Where `${` occurs, its `{` is written as the RFC 4514 hex
 * escape \7B (the same DN to any LDAP server) so that httpd has no variable to substitute.
 */
function dnForRequire(dn: string): string {
  return dn.replace(/\$\{/g, '$\\7B');
}

/** An LDAP URL for AuthLDAPURL: the DN percent-encoded (RFC 4516), `=` and `,` kept readable. */
export function ldapUrl(server: string, baseDn: string, attributes: string[], filter?: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%3D/gi, '=').replace(/%2C/gi, ',');
  let url = `${server.replace(/\/+$/, '')}/${enc(baseDn)}?${attributes.map(enc).join(',')}`;
  if (filter !== undefined) url += `?sub?${enc(filter)}`;
  return url;
}

// ---------------------------------------------------------------------------------------------
// The <Location> block

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

function checkNames(o: ApacheLocationOptions): string[] {
  const names = o.names ?? [];
  switch (o.require) {
    case 'valid-user':
    case 'staff':
    case 'superuser':
      if (names.length) throw new ApacheConfigError(`--require ${o.require} takes no names (got ${names.map((n) => JSON.stringify(n)).join(', ')})`);
      return names;
    case 'user':
    case 'group':
    case 'permission':
      if (!names.length) throw new ApacheConfigError(`--require ${o.require} needs at least one ${o.require === 'permission' ? 'permission (app_label.codename)' : `${o.require} name`}, e.g. --require ${o.require} ${o.require === 'permission' ? 'svn.commit_repo' : o.require === 'user' ? 'alice' : 'secret-agents'}`);
      if (o.require === 'permission') {
        for (const n of names) {
          if (!/^[^.]+\.[^.]/.test(n)) throw new ApacheConfigError(`--require permission: ${JSON.stringify(n)} is not app_label.codename (e.g. svn.commit_repo)`);
        }
      }
      return names;
    default:
      throw new ApacheConfigError(`--require must be one of ${REQUIRE_KINDS.join(', ')} (got ${JSON.stringify(o.require)})`);
  }
}

/**
 * The complete, commented `<Location>` block for one recipe. Throws ApacheConfigError when a
 * value cannot be written in httpd.conf or the options do not fit together.
 */
export function apacheLocation(o: ApacheLocationOptions): string {
  const names = checkNames(o);
  const dit = new Dit(o.tree, o.caseInsensitiveUsernames ?? false);
  if (!o.location.startsWith('/')) throw new ApacheConfigError(`--location must be a URL path starting with / (got ${JSON.stringify(o.location)})`);
  if (o.via !== undefined && !['permission', 'staff', 'superuser'].includes(o.require)) {
    throw new ApacheConfigError(`--via applies to --require permission, staff or superuser, not ${o.require}`);
  }
  if (o.groupAttribute !== undefined && o.require !== 'group') {
    throw new ApacheConfigError(`--group-attribute applies to --require group only (permission and role groups are compared by member DN)`);
  }
  const serverUrl = o.ldapUrl.replace(/\/+$/, '');
  if (!/^ldaps?:\/\/[^/?]+$/.test(serverUrl)) throw new ApacheConfigError(`the LDAP URL must be ldap://host:port or ldaps://host:port (got ${JSON.stringify(o.ldapUrl)})`);
  const attributes = ['uid'];
  for (const a of o.attributes ?? []) {
    if (!ATTRIBUTE_NAME.test(a)) throw new ApacheConfigError(`--attributes: ${JSON.stringify(a)} is not an LDAP attribute name`);
    if (!attributes.some((x) => x.toLowerCase() === a.toLowerCase())) attributes.push(a);
  }

  const L: string[] = [];
  const c = (text: string) => L.push(`    # ${text}`);
  const d = (text: string) => L.push(`    ${text}`);
  if (o.generatedBy) L.push(`# Generated by: ${o.generatedBy.replace(/[\r\n]+/g, ' ')}`);
  L.push(`<Location ${apacheQuote(o.location, '--location')}>`);
  d('AuthType Basic');
  d(`AuthName ${apacheQuote(apacheExprString(o.authName ?? 'Restricted', '--name'), '--name')}`);
  d('AuthBasicProvider ldap');
  c(`Users are searched by uid under the bridge's ${dit.ouName('users')} container.`);
  if (attributes.length > 1) c(`Each listed attribute reaches the backend as AUTHENTICATE_<ATTRIBUTE> (${attributes.map((a) => `AUTHENTICATE_${a.toUpperCase()}`).join(', ')}).`);
  d(`AuthLDAPURL ${apacheQuote(ldapUrl(serverUrl, dit.containerDn.users, attributes), 'AuthLDAPURL')}`);
  if (serverUrl.startsWith('ldaps:')) c('ldaps: give mod_ldap the CA that signed the bridge certificate (LDAPTrustedGlobalCert CA_BASE64 /path/ca.pem, server level).');

  if (o.bind.as === 'service') {
    const p = o.bind.password;
    c('The service account searches for the user and checks the Require line.');
    d(`AuthLDAPBindDN ${apacheQuote(o.bind.dn, 'AuthLDAPBindDN')}`);
    if ('env' in p) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.env)) throw new ApacheConfigError(`--bind-password-env: ${JSON.stringify(p.env)} is not an environment variable name`);
      c(`Apache needs the plaintext password (the bridge keeps only its hash). httpd reads it from the`);
      c(`environment variable ${p.env} when it starts: on Debian, add to /etc/apache2/envvars`);
      c(`  export ${p.env}='the-password'`);
      c(`(httpd pastes it in before parsing this line: the password must not contain " or \\).`);
      d(`AuthLDAPBindPassword "\${${p.env}}"`);
    } else {
      c('Apache needs the plaintext password (the bridge keeps only its hash). httpd runs this');
      c('program once at start and takes the first line it prints as the password.');
      d(`AuthLDAPBindPassword ${apacheQuote(`exec:${p.exec}`, '--bind-password-exec')}`);
    }
  } else {
    // ap_pregsub: $0-$9 and & are the match; \$ and \& are literal.
    const pattern = `uid=$1,${dit.containerDn.users.replace(/[&$]/g, (ch) => `\\${ch}`)}`;
    c('No service account: Apache binds as the user, with the password they typed, to check it');
    c('and to search and compare. The name is pasted into the DN unescaped, so users whose name');
    c("needs DN escaping (Django allows '+') cannot log in this way. And every failed login counts");
    c("against Apache's address in the bridge's brute-force limit (30 in 5 minutes locks out every");
    c('user of this Apache): on a public site, prefer a service account.');
    d('AuthLDAPInitialBindAsUser on');
    d(`AuthLDAPInitialBindPattern (.+) ${apacheQuote(pattern, 'AuthLDAPInitialBindPattern')}`);
    d('AuthLDAPSearchAsUser on');
    d('AuthLDAPCompareAsUser on');
  }
  c('Django groups do not nest: without this, Apache walks every member of a group (two');
  c('compares per member) looking for sub-groups whenever a user is not a member.');
  d('AuthLDAPMaxSubGroupDepth 0');

  const groupRequire = (dn: string) => `Require ldap-group ${apacheExprString(dnForRequire(dn), 'Require ldap-group')}`;
  const attrRequire = (attr: string, value: string) => `Require ldap-attribute ${attr}=${apacheExprString(apacheWord(value), 'Require ldap-attribute')}`;
  const memberDn = () => {
    c("The bridge's groups list their users' DNs in member (never uniqueMember).");
    d('AuthLDAPGroupAttribute member');
    d('AuthLDAPGroupAttributeIsDN on');
  };
  switch (o.require) {
    case 'valid-user':
      c('Any active Django user with a usable password.');
      d('Require valid-user');
      break;
    case 'user':
      c(`These Django users (compared with the uid of the user's entry, ${o.caseInsensitiveUsernames ? 'ignoring case, as users.caseInsensitive asks' : 'case-sensitively like Django'}).`);
      d(`Require ldap-user ${apacheExprString(names.map((n) => apacheWord(n)).join(' '), 'Require ldap-user')}`);
      break;
    case 'group':
      if ((o.groupAttribute ?? 'member') === 'member') {
        memberDn();
      } else {
        c("Compare the user's name with the group's memberUid values instead of DNs.");
        d('AuthLDAPGroupAttribute memberUid');
        d('AuthLDAPGroupAttributeIsDN off');
      }
      c(names.length > 1 ? 'Members of any of these Django groups (active users only).' : 'Members of this Django group (active users only).');
      for (const n of names) {
        c(`group ${JSON.stringify(n)}`);
        d(groupRequire(dit.groupDn(n)));
      }
      break;
    case 'permission':
      if (o.via === 'attribute') {
        c("Users holding the permission, as user.has_perm() says: compared on the user's own");
        c('djangoPermission values (direct, through a group, or as a superuser).');
        for (const n of names) d(attrRequire('djangoPermission', n));
      } else {
        memberDn();
        c('Users holding the permission, as user.has_perm() says (directly, through a group, or');
        c("as an active superuser): the members of the bridge's permission group.");
        for (const n of names) {
          const dot = n.indexOf('.');
          d(groupRequire(dit.permissionDn({ appLabel: n.slice(0, dot), codename: n.slice(dot + 1) })));
        }
      }
      break;
    case 'staff':
    case 'superuser': {
      const flag = o.require === 'staff' ? 'is_staff' : 'is_superuser';
      if (o.via === 'attribute') {
        c(`Active users with ${flag}, compared on the user's own entry.`);
        d(attrRequire(o.require === 'staff' ? 'djangoIsStaff' : 'djangoIsSuperuser', 'TRUE'));
      } else {
        memberDn();
        c(`Active users with ${flag}: the bridge's role group.`);
        d(groupRequire(dit.roleDn(o.require === 'staff' ? 'staff' : 'superusers')));
      }
      break;
    }
  }
  L.push('</Location>');
  return `${L.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// From the bridge's configuration

/** What the command line asks for (see src/cli.ts `apache-config`). */
export interface ApacheConfigRequest {
  location: string;
  /** `--require <kind> [names...]`, e.g. ['group', 'secret-agents']. */
  require: string[];
  via?: 'group' | 'attribute';
  groupAttribute?: 'member' | 'memberUid';
  authName?: string;
  /** No service account: Apache binds as the user. */
  bindAsUser?: boolean;
  /** Which of serviceAccounts (default: the first). */
  bindDn?: string;
  bindPasswordEnv?: string;
  bindPasswordExec?: string;
  /** Overrides the URL taken from the first listen address. */
  ldapUrl?: string;
  attributes?: string[];
  generatedBy?: string;
}

/**
 * The URL Apache should use for a listen address: a wildcard host becomes loopback (Apache on
 * the same machine); port 0 (any free port) cannot be known in advance.
 */
export function apacheUrlForListen(listen: string): string {
  const m = /^(ldaps?):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?\/?$/i.exec(listen.trim());
  if (!m) throw new ApacheConfigError(`cannot use the listen address ${JSON.stringify(listen)} as Apache's LDAP URL: pass --ldap-url ldap://host:port`);
  const scheme = m[1]!.toLowerCase();
  let host = m[2]!;
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '[::]' || host === '[::0]') host = '[::1]';
  const port = m[3] ?? (scheme === 'ldaps' ? '636' : '389');
  if (port === '0') throw new ApacheConfigError(`the first listen address ${listen} has port 0 (a free port chosen at start): pass --ldap-url ldap://host:port`);
  return `${scheme}://${host}:${port}`;
}

/** Options for apacheLocation() from a loaded bridge configuration and the command line. */
export function apacheOptionsFromConfig(config: BridgeConfig, req: ApacheConfigRequest): ApacheLocationOptions {
  const [kind, ...names] = req.require;
  if (kind === undefined) throw new ApacheConfigError(`--require is required: one of ${REQUIRE_KINDS.join(', ')}`);
  if (!(REQUIRE_KINDS as readonly string[]).includes(kind)) throw new ApacheConfigError(`--require must be one of ${REQUIRE_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  const first = config.listen[0];
  const ldapUrlValue = req.ldapUrl ?? (first !== undefined ? apacheUrlForListen(first) : undefined);
  if (ldapUrlValue === undefined) throw new ApacheConfigError('no listen address: pass --ldap-url ldap://host:port');
  let bind: ApacheLocationOptions['bind'];
  if (req.bindAsUser) {
    if (req.bindDn !== undefined || req.bindPasswordEnv !== undefined || req.bindPasswordExec !== undefined) {
      throw new ApacheConfigError('--bind-as-user uses no service account: drop --bind-dn, --bind-password-env and --bind-password-exec');
    }
    bind = { as: 'user' };
  } else {
    const accounts = config.serviceAccounts;
    if (!accounts.length) {
      throw new ApacheConfigError('the configuration has no serviceAccounts: add one (its password hash from `django-ldap-bridge hash-password`), or pass --bind-as-user to let Apache bind as each user');
    }
    let dn = accounts[0]!.dn;
    if (req.bindDn !== undefined) {
      let key: string;
      try {
        key = normalizeDn(req.bindDn);
      } catch (e) {
        throw new ApacheConfigError(`--bind-dn: ${(e as Error).message}`);
      }
      const found = accounts.find((a) => normalizeDn(a.dn) === key);
      if (!found) throw new ApacheConfigError(`--bind-dn ${req.bindDn} is not one of the configured serviceAccounts (${accounts.map((a) => a.dn).join('; ')})`);
      dn = found.dn;
    }
    parseDn(dn);
    if (req.bindPasswordEnv !== undefined && req.bindPasswordExec !== undefined) throw new ApacheConfigError('give --bind-password-env or --bind-password-exec, not both');
    const password: BindPassword = req.bindPasswordExec !== undefined ? { exec: req.bindPasswordExec } : { env: req.bindPasswordEnv ?? DEFAULT_PASSWORD_ENV };
    bind = { as: 'service', dn, password };
  }
  return {
    location: req.location,
    require: kind as RequireKind,
    names,
    via: req.via,
    groupAttribute: req.groupAttribute,
    authName: req.authName,
    ldapUrl: ldapUrlValue,
    tree: config.tree,
    caseInsensitiveUsernames: config.caseInsensitiveUsernames,
    bind,
    attributes: req.attributes,
    generatedBy: req.generatedBy,
  };
}
