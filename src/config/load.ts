// Configuration loading: CLI flags > config file (YAML/JSON) > environment > defaults, validated
// against schemas/config.schema.json (the file's shape) and resolved to a BridgeConfig.
// Each step has its module: env.ts, file.ts, flags.ts, merge.ts, schema.ts, problems.ts,
// resolve.ts; this one runs them in order and gathers every problem into one ConfigError.
import type { BridgeConfig } from './types.js';
import { ConfigError } from './database-url.js';
import { CONFIG_ENV, envLayer } from './env.js';
import { readConfigFile } from './file.js';
import { flagsLayer, type ConfigFlags } from './flags.js';
import { mergeLayers, type Layer } from './merge.js';
import { schemaProblems } from './schema.js';
import { semanticProblems } from './problems.js';
import { resolveConfig } from './resolve.js';

// What the rest of the bridge, the tests and the scripts import from here.
export { ConfigError };
export type { ConfigFlags };
export { DEFAULT_LISTEN, DEFAULT_DJANGO_MAPPING } from './defaults.js';
export { ENV_PREFIX, CONFIG_ENV, envVarName, listEnvVars, type EnvVarSpec } from './env.js';
export { CONFIG_SCHEMA_URL, configSchema, servicePasswordProblem } from './schema.js';
export { formatPath } from './document.js';

/**
 * Loads the configuration. Precedence: CLI flags > config file (--config, else DJANGO_LDAP_CONFIG;
 * YAML or JSON by extension) > environment (DJANGO_LDAP_<PATH>, see listEnvVars(); DATABASE_URL
 * when DJANGO_LDAP_DATABASE is unset) > defaults (Django's auth tables, ldap://127.0.0.1:3389,
 * log info/auto). Throws ConfigError listing every problem, each as `<dotted.path>: <message>`
 * (followed by `(from <VARIABLE or --flag>)` when that value did not come from the file).
 */
export function loadConfig(opts: { flags?: ConfigFlags; env?: Record<string, string | undefined>; cwd?: string } = {}): BridgeConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];

  const fromEnv = envLayer(env, problems);
  const configPath = flags.config !== undefined && flags.config !== '' ? flags.config : env[CONFIG_ENV]?.trim() || undefined;
  const fromFile: Layer = { data: configPath !== undefined ? readConfigFile(configPath, cwd) : {}, labels: new Map() };
  const merged = mergeLayers([fromEnv, fromFile, flagsLayer(flags)]);

  const schemaErrs = schemaProblems(merged.data);
  const badPaths = schemaErrs.map((p) => p.path);
  const bad = (path: string) => badPaths.some((b) => b === path || path.startsWith(`${b}.`) || path.startsWith(`${b}[`));
  for (const pr of [...schemaErrs, ...semanticProblems(merged.data, cwd, bad)]) {
    const src = merged.sourceOf(pr.path);
    const line = `${pr.path}: ${pr.message}${src ? ` (from ${src})` : ''}`;
    if (!problems.includes(line)) problems.push(line);
  }
  if (merged.data.database === undefined) problems.push('database: required (set --database, DATABASE_URL or database: in the config file)');
  if (merged.data.baseDn === undefined) problems.push('baseDn: required (set --base-dn, DJANGO_LDAP_BASE_DN or baseDn: in the config file)');
  if (problems.length) throw new ConfigError(problems);
  return resolveConfig(merged.data, cwd);
}
