// pino to stdout: JSON by default, human-readable on a terminal (or when asked). Handlers
// log DNs, filters and outcomes; no code path passes a password or a hash to the logger.
//
// JSON goes through pino's asynchronous destination (sonic-boom, `sync: false`): a line is
// appended to its buffer, written (off the event loop) once 32 KiB have gathered or 0.5 s has
// passed, so a busy server makes one write() per ~140 lines instead of one per line (a line then
// costs about what serialising it does; see BENCHMARKS.md). Each write is a trip through libuv's
// thread pool and back: at 4 KiB (~18 lines) those trips cost the Apache mix ~3% of the bridge's
// CPU (BENCHMARKS.md, session 12); a quiet bridge's line still waits at most half a second.
// maxWrite (sonic-boom's cap on one write, 16 KiB by default) must exceed minLength.
// Lines still buffered at exit are written by endLog() (SIGTERM, a caught crash), and by pino's
// own exit hook (flushSync) on any other process.exit(); only a SIGKILL or a power cut loses the
// last half second.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

type Destination = ReturnType<typeof pino.destination>;
const asyncDestinations = new WeakMap<Logger, Destination>();

export function createLogger(opts: { level: string; format: 'json' | 'pretty' | 'auto' }, dest?: NodeJS.WritableStream): Logger {
  const out = dest ?? process.stdout;
  const usePretty = opts.format === 'pretty' || (opts.format === 'auto' && (out as NodeJS.WriteStream).isTTY === true);
  // A last net under the rule above: a top-level `password` or `credentials` field is censored.
  // Top-level paths only: wildcard paths ('*.password') make pino look into every field of
  // every line, which cost 3.3 of a bind line's 9.5 µs (bench/log-cost.mjs), a third of what
  // logging costs the Apache mix; no code path logs an object that holds one nested.
  const base = { level: opts.level, base: undefined, redact: { paths: ['password', 'credentials'], censor: '[redacted]' } };
  if (usePretty) return pino(base, pretty({ destination: out, colorize: (out as NodeJS.WriteStream).isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  if (dest) return pino(base, dest as pino.DestinationStream);
  // Buffer mode: sonic-boom keeps each line as its own Buffer and joins a chunk once when it
  // writes it. In its default string mode every line re-measures the chunk gathered so far
  // (Buffer.byteLength of up to 16 KiB per line) and each write converts the chunk back to
  // bytes on the event loop: ~3 µs of a busy bridge's 16 µs of logging per Apache transaction
  // (bench/ab-config.mjs, BENCHMARKS.md). pino hands over strings, so each becomes a Buffer
  // here (one small copy from Node's buffer pool).
  const stream = pino.destination({ dest: 1, sync: false, minLength: 32768, maxWrite: 65536, periodicFlush: 500, contentMode: 'buffer' });
  const writeBuffer = stream.write as unknown as (this: Destination, b: Buffer) => boolean;
  stream.write = (line: string) => writeBuffer.call(stream, Buffer.from(line));
  const log = pino(base, stream);
  asyncDestinations.set(log, stream);
  return log;
}

/** Writes every line `log` (a logger createLogger made) has buffered and ends its stream:
 * resolves once the last line has reached stdout. Called on the way out (SIGTERM, a crash);
 * nothing may be logged after it. At most `ms` are waited (a stdout nobody reads). */
export function endLog(log: Logger, ms = 10_000): Promise<void> {
  const stream = asyncDestinations.get(log);
  if (!stream || (stream as unknown as { destroyed: boolean }).destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end();
  });
}
