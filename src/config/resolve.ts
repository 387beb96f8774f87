// Resolving the merged, checked settings document to a BridgeConfig: every default filled in
// (Django's tables, the schema's numbers, the worker and hash-concurrency counts for this
// machine) and paths made absolute, so nothing downstream has to guess.
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { BridgeConfig, DjangoMapping } from './types.js';
import { parseDatabaseUrl } from './database-url.js';
import { DEFAULT_DJANGO_MAPPING, DEFAULT_LISTEN } from './defaults.js';
import { get, type Obj } from './document.js';
import { schemaDefault } from './schema.js';
import { GROUP_COLUMNS, USER_COLUMNS, type GroupColumnField, type UserColumnMapping } from '../ldap/attributes.js';

function str(v: unknown, dflt: string): string {
  return typeof v === 'string' ? v : dflt;
}

function col(v: unknown, dflt: string | null): string | null {
  return v === null ? null : typeof v === 'string' ? v : dflt;
}

/** The setting's value: its dotted path (users.columns.email) in the merged document. */
const setting = (m: Obj, path: string): unknown => get(m, ...path.split('.'));

/** Each user column of the attribute table from its setting: a required one takes its default
 * when unset, an optional one may also be null (the model lacks it). */
function userColumns(m: Obj): UserColumnMapping {
  return Object.fromEntries(USER_COLUMNS.map((c) => [c.field, c.optional ? col(setting(m, c.setting), c.default) : str(setting(m, c.setting), c.default!)])) as UserColumnMapping;
}

function groupColumns(m: Obj): Record<GroupColumnField, string> {
  return Object.fromEntries(GROUP_COLUMNS.map((c) => [c.field, str(setting(m, c.setting), c.default)])) as Record<GroupColumnField, string>;
}

/** The sqlite URL with a path resolved against cwd, so every consumer opens the same file. */
function normaliseDatabaseUrl(url: string, cwd: string): string {
  const target = parseDatabaseUrl(url, cwd);
  if (target.kind !== 'sqlite') return url.trim();
  return `sqlite://${target.path.replace(/%/g, '%25').replace(/\?/g, '%3F').replace(/#/g, '%23')}`;
}

/** A numeric setting from the merged document, else its schema default. */
/** posix.unixUsers: all | group:<name> | permission:<app_label>.<codename> (the schema's
 * pattern has checked the form). */
function unixUsers(v: string): NonNullable<BridgeConfig['posix']>['unixUsers'] {
  if (v.startsWith('group:')) return { kind: 'group', name: v.slice(6) };
  if (v.startsWith('permission:')) {
    const p = v.slice(11);
    const dot = p.indexOf('.');
    return { kind: 'permission', appLabel: p.slice(0, dot), codename: p.slice(dot + 1) };
  }
  return { kind: 'all' };
}

function num(m: Obj, path: string[]): number {
  const v = get(m, ...path);
  return typeof v === 'number' ? v : (schemaDefault(path) as number);
}

function flag(m: Obj, path: string[]): boolean {
  return (get(m, ...path) ?? schemaDefault(path)) === true;
}

/** The writes section: every switch off unless set; the write URL normalised like `database`. */
function resolveWrites(m: Obj, cwd: string): BridgeConfig['writes'] {
  const url = get(m, 'writes', 'database');
  const common = get(m, 'writes', 'passwordRules', 'commonPasswords');
  const similarity = get(m, 'writes', 'passwordRules', 'maxSimilarity');
  return {
    database: typeof url === 'string' ? normaliseDatabaseUrl(url, cwd) : null,
    passwordModify: flag(m, ['writes', 'passwordModify']),
    lastLogin: flag(m, ['writes', 'lastLogin']),
    lastLoginIntervalSeconds: num(m, ['writes', 'lastLoginIntervalSeconds']),
    upgradeHashes: flag(m, ['writes', 'upgradeHashes']),
    hasher: 'pbkdf2_sha256',
    iterations: num(m, ['writes', 'iterations']),
    generatedLength: num(m, ['writes', 'generatedLength']),
    passwordRules: {
      minLength: num(m, ['writes', 'passwordRules', 'minLength']),
      maxSimilarity: similarity === null ? null : typeof similarity === 'number' ? similarity : (schemaDefault(['writes', 'passwordRules', 'maxSimilarity']) as number),
      commonPasswords: typeof common === 'string' ? resolve(cwd, common) : null,
      numeric: flag(m, ['writes', 'passwordRules', 'numeric']),
    },
  };
}

/** The mfa section (the schema's pattern has checked mfa.require's form). */
function resolveMfa(m: Obj): BridgeConfig['mfa'] {
  const v = str(get(m, 'mfa', 'require'), 'off');
  const sep = get(m, 'mfa', 'separator');
  let require: BridgeConfig['mfa']['require'];
  if (v === 'off' || v === 'confirmed-device') require = { kind: v };
  else if (v.startsWith('group:')) require = { kind: 'group', name: v.slice(6) };
  else {
    const p = v.slice(11);
    const dot = p.indexOf('.');
    require = { kind: 'permission', appLabel: p.slice(0, dot), codename: p.slice(dot + 1) };
  }
  return { require, separator: typeof sep === 'string' ? sep : null, credentialCacheSeconds: num(m, ['mfa', 'credentialCacheSeconds']) };
}

/** The BridgeConfig for a merged document that passed every check (cwd: for relative paths). */
export function resolveConfig(m: Obj, cwd: string): BridgeConfig {
  const D = DEFAULT_DJANGO_MAPPING;
  const u = get(m, 'users');
  const usersTable = str(get(u, 'table'), D.users.table);

  const permissionsCfg = get(m, 'permissions');
  const permissions: DjangoMapping['permissions'] =
    permissionsCfg === false
      ? null
      : {
          table: str(get(permissionsCfg, 'table'), D.permissions!.table),
          id: str(get(permissionsCfg, 'id'), D.permissions!.id),
          codename: str(get(permissionsCfg, 'codename'), D.permissions!.codename),
          name: str(get(permissionsCfg, 'name'), D.permissions!.name),
          contentType: str(get(permissionsCfg, 'contentType'), D.permissions!.contentType),
          contentTypeTable: str(get(permissionsCfg, 'contentTypeTable'), D.permissions!.contentTypeTable),
          contentTypeId: str(get(permissionsCfg, 'contentTypeId'), D.permissions!.contentTypeId),
          appLabel: str(get(permissionsCfg, 'appLabel'), D.permissions!.appLabel),
        };

  const groupsCfg = get(m, 'groups');
  const gp = get(groupsCfg, 'permissions');
  const groups: DjangoMapping['groups'] =
    groupsCfg === false
      ? null
      : {
          table: str(get(groupsCfg, 'table'), D.groups!.table),
          ...groupColumns(m),
          permissions:
            gp === false || permissions === null
              ? null
              : {
                  table: str(get(gp, 'table'), D.groups!.permissions!.table),
                  groupColumn: str(get(gp, 'groupColumn'), D.groups!.permissions!.groupColumn),
                  permissionColumn: str(get(gp, 'permissionColumn'), D.groups!.permissions!.permissionColumn),
                },
        };

  // Django names an auto-created M2M table <model's table>_<field>: the defaults follow users.table.
  const ug = get(u, 'groups');
  const userGroups: DjangoMapping['userGroups'] =
    ug === false || groups === null
      ? null
      : {
          table: str(get(ug, 'table'), `${usersTable}_groups`),
          userColumn: str(get(ug, 'userColumn'), D.userGroups!.userColumn),
          otherColumn: str(get(ug, 'groupColumn'), D.userGroups!.otherColumn),
        };
  const up = get(u, 'permissions');
  const userPermissions: DjangoMapping['userPermissions'] =
    up === false || permissions === null
      ? null
      : {
          table: str(get(up, 'table'), `${usersTable}_user_permissions`),
          userColumn: str(get(up, 'userColumn'), D.userPermissions!.userColumn),
          otherColumn: str(get(up, 'permissionColumn'), D.userPermissions!.otherColumn),
        };

  const tree = get(m, 'tree');
  const sas = get(m, 'serviceAccounts');
  const listen = get(m, 'listen');
  return {
    database: normaliseDatabaseUrl(m.database as string, cwd),
    listen: Array.isArray(listen) ? listen.map(String) : [...DEFAULT_LISTEN],
    proxyProtocol: Array.isArray(get(m, 'proxyProtocol')) ? (get(m, 'proxyProtocol') as unknown[]).map(String) : [],
    tree: {
      baseDn: (m.baseDn as string).trim(),
      usersOu: str(get(tree, 'users'), 'users'),
      groupsOu: str(get(tree, 'groups'), 'groups'),
      permissionsOu: str(get(tree, 'permissions'), 'permissions'),
      rolesOu: str(get(tree, 'roles'), 'roles'),
      servicesOu: str(get(tree, 'services'), 'services'),
    },
    serviceAccounts: Array.isArray(sas) ? sas.map((s) => ({ dn: String(get(s, 'dn')).trim(), password: String(get(s, 'password')), ...(get(s, 'passwordAdministrator') === true ? { passwordAdministrator: true } : {}) })) : [],
    anonymous: { search: get(m, 'anonymous', 'search') === true },
    caseInsensitiveUsernames: get(u, 'caseInsensitive') === true,
    showInactiveUsers: get(u, 'showInactive') === true,
    posix:
      get(m, 'posix', 'enabled') === true
        ? {
            uidBase: num(m, ['posix', 'uidBase']),
            gidBase: num(m, ['posix', 'gidBase']),
            primaryGroup: typeof get(m, 'posix', 'primaryGroup') === 'number' ? (get(m, 'posix', 'primaryGroup') as number) : 'private',
            homeDirectory: str(get(m, 'posix', 'homeDirectory'), schemaDefault(['posix', 'homeDirectory']) as string),
            loginShell: str(get(m, 'posix', 'loginShell'), schemaDefault(['posix', 'loginShell']) as string),
            loginShells: Object.entries((get(m, 'posix', 'loginShells') ?? {}) as Record<string, string>).map(([g, sh]) => [g, String(sh)]),
            unixUsers: unixUsers(str(get(m, 'posix', 'unixUsers'), 'all')),
            caseTwins: get(m, 'posix', 'caseTwins') === 'exclude' ? 'exclude' : 'serve',
          }
        : null,
    django: {
      users: { table: usersTable, ...userColumns(m) },
      userGroups,
      userPermissions,
      groups,
      permissions,
      // Only when configured: a site without it has exactly Django's mapping.
      ...(get(m, 'posix', 'enabled') === true && typeof get(m, 'posix', 'sshKeys', 'table') === 'string'
        ? {
            sshKeys: {
              table: String(get(m, 'posix', 'sshKeys', 'table')),
              userColumn: str(get(m, 'posix', 'sshKeys', 'userColumn'), 'user_id'),
              keyColumn: str(get(m, 'posix', 'sshKeys', 'keyColumn'), 'public_key'),
              activeColumn: typeof get(m, 'posix', 'sshKeys', 'activeColumn') === 'string' ? (get(m, 'posix', 'sshKeys', 'activeColumn') as string) : null,
            },
          }
        : {}),
      // Only when codes are asked for: otherwise the table need not exist.
      ...(str(get(m, 'mfa', 'require'), 'off') !== 'off' ? { totpDevices: { table: str(get(m, 'mfa', 'devicesTable'), 'otp_totp_totpdevice') } } : {}),
    },
    log: {
      level: str(get(m, 'log', 'level'), 'info') as BridgeConfig['log']['level'],
      format: str(get(m, 'log', 'format'), 'auto') as BridgeConfig['log']['format'],
    },
    limits: {
      maxSearchEntries: num(m, ['limits', 'maxSearchEntries']),
      maxSearchSeconds: num(m, ['limits', 'maxSearchSeconds']),
      maxMessageBytes: num(m, ['limits', 'maxMessageBytes']),
      filterMaxDepth: num(m, ['limits', 'filterMaxDepth']),
      filterMaxElements: num(m, ['limits', 'filterMaxElements']),
      maxRequestedAttributes: num(m, ['limits', 'maxRequestedAttributes']),
      maxConnections: num(m, ['limits', 'maxConnections']),
      maxConnectionsPerAddress: num(m, ['limits', 'maxConnectionsPerAddress']),
      idleTimeoutSeconds: num(m, ['limits', 'idleTimeoutSeconds']),
      messageTimeoutSeconds: num(m, ['limits', 'messageTimeoutSeconds']),
      handshakeTimeoutSeconds: num(m, ['limits', 'handshakeTimeoutSeconds']),
      maxOutstandingPerConnection: num(m, ['limits', 'maxOutstandingPerConnection']),
      anonymousSearchEntries: num(m, ['limits', 'anonymousSearchEntries']),
    },
    security: {
      // Auto: the CPUs shared among the worker processes.
      hashConcurrency: num(m, ['security', 'hashConcurrency']) || Math.max(1, Math.floor(availableParallelism() / (num(m, ['workers']) || availableParallelism()))),
      hashQueue: num(m, ['security', 'hashQueue']),
      // Half the queue unless given (the schema cannot say "half of another setting").
      hashQueueReserved: typeof get(m, 'security', 'hashQueueReserved') === 'number' ? (get(m, 'security', 'hashQueueReserved') as number) : Math.floor(num(m, ['security', 'hashQueue']) / 2),
      credentialCacheSeconds: num(m, ['security', 'credentialCacheSeconds']),
      credentialCacheEntries: num(m, ['security', 'credentialCacheEntries']),
      requireTls: (get(m, 'security', 'requireTls') ?? schemaDefault(['security', 'requireTls'])) as 'auto' | 'always' | 'never',
      redis: typeof get(m, 'security', 'redis') === 'string' ? (get(m, 'security', 'redis') as string) : null,
      redisTimeoutSeconds: num(m, ['security', 'redisTimeoutSeconds']),
      bruteForce: {
        enabled: (get(m, 'security', 'bruteForce', 'enabled') ?? true) === true,
        userFailures: num(m, ['security', 'bruteForce', 'userFailures']),
        userWindowSeconds: num(m, ['security', 'bruteForce', 'userWindowSeconds']),
        addressFailures: num(m, ['security', 'bruteForce', 'addressFailures']),
        addressWindowSeconds: num(m, ['security', 'bruteForce', 'addressWindowSeconds']),
        lockoutSeconds: num(m, ['security', 'bruteForce', 'lockoutSeconds']),
        maxLockoutSeconds: num(m, ['security', 'bruteForce', 'maxLockoutSeconds']),
        trustedAddresses: Array.isArray(get(m, 'security', 'bruteForce', 'trustedAddresses')) ? (get(m, 'security', 'bruteForce', 'trustedAddresses') as unknown[]).map(String) : [],
      },
    },
    tls:
      get(m, 'tls') && typeof get(m, 'tls', 'cert') === 'string'
        ? { cert: resolve(cwd, get(m, 'tls', 'cert') as string), key: resolve(cwd, get(m, 'tls', 'key') as string) }
        : null,
    workers: num(m, ['workers']) || Math.max(1, availableParallelism()),
    metrics: { listen: typeof get(m, 'metrics', 'listen') === 'string' ? (get(m, 'metrics', 'listen') as string) : null },
    db: {
      poolSize: num(m, ['db', 'poolSize']),
      statementTimeoutSeconds: num(m, ['db', 'statementTimeoutSeconds']),
      startupRetrySeconds: num(m, ['db', 'startupRetrySeconds']),
      preparedStatements: (get(m, 'db', 'preparedStatements') ?? true) === true,
    },
    writes: resolveWrites(m, cwd),
    mfa: resolveMfa(m),
  };
}
