// Reading the config file: YAML or JSON, by its extension. Both are read by the `yaml` package,
// which reports syntax errors and duplicate keys with their offsets (YAML 1.2 reads JSON); a
// .json file is read with yaml's JSON schema (a bare word is an error, not a string) and must
// also pass JSON.parse, so YAML-only syntax (comments, trailing commas...) stays an error there.
//
// No message ever quotes the file: it may hold a password (yaml's prettyErrors is off for that).
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { ConfigError } from './database-url.js';
import { isPlainObject, type Obj } from './document.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The settings in the file `given` (relative to cwd); an empty file is an empty mapping.
 * Throws ConfigError naming the file (as given) and, for a syntax error, the line and column. */
export function readConfigFile(given: string, cwd: string): Obj {
  const path = resolve(cwd, given);
  const problem = (what: string) => `config file ${given}: ${what}`;
  const ext = extname(path).toLowerCase();
  if (!EXTENSIONS.includes(ext)) throw new ConfigError([problem(`unsupported file type "${ext || '(none)'}" (expected .yaml, .yml or .json)`)]);
  let text = readText(path, problem);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const json = ext === '.json';

  const lines = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines, schema: json ? 'json' : 'core' });
  if (doc.errors.length) {
    // In JSON, what follows a syntax error is mostly its echo: the first one is the one to fix.
    const shown = json ? doc.errors.slice(0, 1) : doc.errors;
    throw new ConfigError(shown.map((err) => problem(`${json ? 'invalid JSON' : 'YAML error'} at ${at(err.pos[0])}: ${describe(err, doc, text, json)}`)));
  }
  let data: unknown;
  if (json) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      // yaml read it, JSON does not: YAML syntax. V8 gives the offset for some such errors.
      const offset = /at position (\d+)/.exec((e as Error).message)?.[1];
      throw new ConfigError([problem(`invalid JSON${offset === undefined ? '' : ` at ${at(Number(offset))}`}: YAML syntax, not JSON (a comment, a trailing comma, 'single quotes', a tag, an anchor or a line break inside a string); fix it, or name the file .yaml`)]);
    }
  } else {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ConfigError([problem(`YAML error: ${(e as Error).message.split('\n')[0]}`)]);
    }
  }
  if (data === null || data === undefined) return {}; // an empty file
  if (!isPlainObject(data)) throw new ConfigError([problem('must hold a mapping of settings at the top level')]);
  return data;
}

function readText(path: string, problem: (what: string) => string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `not found (${path})`
      : code === 'EACCES' || code === 'EPERM' ? `cannot be read: permission denied (${path})`
      : code === 'EISDIR' ? `is a directory (${path})`
      : `cannot be read: ${code ?? 'error'} (${path})`;
    throw new ConfigError([problem(why)]);
  }
}

/** One syntax error in words, never quoting a value. */
function describe(err: YAMLError, doc: Document, text: string, json: boolean): string {
  if (err.code === 'DUPLICATE_KEY') {
    const key = keyAt(doc, err.pos[0]);
    if (key !== undefined) return `duplicate key ${JSON.stringify(key)}`;
  }
  if (json) {
    if (err.pos[0] >= text.trimEnd().length) return 'unexpected end of file';
    // The JSON schema leaves no plain scalar but null, true, false and numbers; yaml's own
    // message would quote the word, which may be a password typed without its quotes.
    if (err.code === 'TAG_RESOLVE_FAILED') return 'not a JSON value (a string needs "double quotes")';
  }
  return err.message.split('\n')[0]!;
}

/** The scalar key that starts at `offset`, if one does. */
function keyAt(doc: Document, offset: number): string | undefined {
  let key: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        key = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return key;
}
