// What one audit line costs the bridge: the CPU (all threads) of logging N bind lines through
// the bridge's own logger (src/log.ts: pino, asynchronous destination on stdout), against the
// same calls with the level off. Run with stdout to a file, as `serve` is deployed:
//
//   node bench/log-cost.mjs > /tmp/lines.log
//
// Lines go out 4 per event-loop turn (an Apache transaction logs 2 binds; a busy bridge runs
// several per turn), with the fields and child bindings dispatch.ts writes. Prints µs per line.
import { createLogger, endLog } from '../dist/log.js';

const N = 200_000;
async function run(level) {
  const root = createLogger({ level, format: 'json' });
  const log = root.child({ conn: 12, peer: '127.0.0.1:40000' });
  const t0 = process.cpuUsage();
  let i = 0;
  await new Promise((done) => {
    const turn = () => {
      for (let k = 0; k < 4; k++) {
        if (log.isLevelEnabled('info')) log.info({ msgid: i++, op: 'bind', dn: 'uid=u0000001,ou=users,dc=example,dc=com', result: 0, outcome: 'success', cached: true, ms: 0.35 }, 'bind');
        else i++;
      }
      if (i < N) setImmediate(turn);
      else done();
    };
    turn();
  });
  await endLog(root);
  const c = process.cpuUsage(t0);
  return (c.user + c.system) / N;
}
const rounds = [];
for (let r = 0; r < 3; r++) rounds.push([await run('silent'), await run('info')]);
const med = (xs) => xs.sort((a, b) => a - b)[1];
const off = med(rounds.map((x) => x[0]));
const on = med(rounds.map((x) => x[1]));
process.stderr.write(`per line: ${(on - off).toFixed(2)} µs CPU (info ${on.toFixed(2)} µs per iteration, silent ${off.toFixed(2)} µs: the loop itself), median of 3 rounds of ${N.toLocaleString('en')} lines\n`);
