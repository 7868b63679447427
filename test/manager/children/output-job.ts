/**
 * A job whose items each write an output file, for the verifyCompleted tests.
 * `run <checkpoint> <outputs> <count>`: writes out/<key>.txt, marks it completed, prints `DONE <key>`,
 * then waits forever (the parent kills it).
 * `verify <checkpoint> <outputs> <count>`: opens with a verifyCompleted that wants a non-empty output,
 * prints `OPENED <pending keys>` and waits forever, without closing.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointManager } from '../../../src/index.js';

const [mode, path, outputs, count] = process.argv.slice(2) as [string, string, string, string?];
const quiet = { warn: () => {}, error: () => {} };
const keys = Array.from({ length: Number(count ?? 20) }, (_, i) => `item-${i}`);

if (mode === 'run') {
  const cp = await CheckpointManager.open({ path, logger: quiet });
  for (const key of cp.pendingItems('render', keys)) {
    await cp.markItemInProgress('render', key);
    writeFileSync(join(outputs, `${key}.txt`), `output of ${key}\n`);
    await cp.markItemCompleted('render', key);
    process.stdout.write(`DONE ${key}\n`);
  }
  process.stdout.write('FINISHED\n');
} else {
  const cp = await CheckpointManager.open({
    path,
    logger: quiet,
    verifyCompleted: (key) => (statSync(join(outputs, `${key}.txt`), { throwIfNoEntry: false })?.size ?? 0) > 0,
  });
  process.stdout.write(`OPENED ${keys.filter((key) => cp.getItemStatus('render', key) === 'pending').join(',')}\n`);
}
// Stay alive, holding the checkpoint open, until the parent kills this process.
setInterval(() => {}, 1 << 30);
