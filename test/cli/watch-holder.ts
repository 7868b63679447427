/**
 * A run that a test drives one command at a time: it opens the checkpoint (holding its lock),
 * then reads commands on stdin and answers each with `done <n>` (the n-th command) once it is
 * written and flushed.
 *
 *   complete <step> <n>          marks the next n items of the step completed
 *   fail <step> <key> <message>  marks an item failed with that message
 *   close                        closes the checkpoint (releasing the lock) and exits
 *   finish                       ends the run with complete(), which removes the checkpoint, and exits
 *
 * Usage: node --import tsx watch-holder.ts <checkpoint> <step>=<total> ...
 */
import { createInterface } from 'node:readline';
import { CheckpointManager } from '../../src/index.js';

const [path, ...totals] = process.argv.slice(2);
const cp = await CheckpointManager.open({ path: path!, pipeline: 'watched' });
const next = new Map<string, number>();
for (const entry of totals) {
  const [step, total] = entry.split('=');
  if (total !== 'none') await cp.setStepTotal(step!, Number(total));
  next.set(step!, 0);
}
await cp.flush();
process.stdout.write(`ready ${process.pid}\n`);

let commands = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const [command, step, ...rest] = line.split(' ');
  if (command === 'complete') {
    for (let i = 0; i < Number(rest[0]); i++) {
      const index = next.get(step!) ?? 0;
      await cp.markItemCompleted(step!, `item-${index}`);
      next.set(step!, index + 1);
    }
  } else if (command === 'fail') {
    await cp.markItemFailed(step!, rest[0]!, new Error(rest.slice(1).join(' ')));
  } else if (command === 'close' || command === 'finish') {
    if (command === 'finish') await cp.complete();
    else await cp.close();
    process.stdout.write('closed\n');
    process.exit(0);
  }
  await cp.flush();
  process.stdout.write(`done ${++commands}\n`);
}
