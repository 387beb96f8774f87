// pino to stdout: JSON by default, human-readable on a terminal (or when asked). Handlers
// log DNs, filters and outcomes; no code path passes a password or a hash to the logger.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(opts: { level: string; format: 'json' | 'pretty' | 'auto' }, dest: NodeJS.WritableStream = process.stdout): Logger {
  const usePretty = opts.format === 'pretty' || (opts.format === 'auto' && (dest as NodeJS.WriteStream).isTTY === true);
  const base = { level: opts.level, base: undefined, redact: { paths: ['password', '*.password', 'credentials', '*.credentials'], censor: '[redacted]' } };
  if (usePretty) return pino(base, pretty({ destination: dest, colorize: (dest as NodeJS.WriteStream).isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  return pino(base, dest as pino.DestinationStream);
}
