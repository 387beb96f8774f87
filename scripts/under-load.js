// Runs a command while CPU-bound busy loops keep every core busy, then stops them: the check
// that timing-based tests hold on a loaded machine (issue #10). Prints the command's duration
// and exits with its status.
//
//   node scripts/under-load.js npm test
//   DLB_LOAD_PROCS=4 node scripts/under-load.js node test/run.js test/e2e/security.test.js
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const command = process.argv.slice(2);
if (!command.length) {
  console.error('usage: node scripts/under-load.js COMMAND [ARGS...]');
  process.exit(2);
}
const procs = Number(process.env.DLB_LOAD_PROCS ?? availableParallelism());
const loops = Array.from({ length: procs }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const stopLoops = () => {
  for (const l of loops) l.kill('SIGKILL');
};
process.on('exit', stopLoops);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopLoops();
    process.exit(130);
  });
}
console.log(`# under-load: ${procs} busy loops running; ${command.join(' ')}`);
const t0 = performance.now();
const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  stopLoops();
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`# under-load: ${command.join(' ')} exited ${code ?? signal} after ${seconds} s with ${procs} busy loops`);
  process.exit(code ?? 1);
});
