/**
 * A child process for the crash tests: opens a checkpoint, works through the pending items and
 * reports every step on stdout, one line each, so the parent knows exactly what was acknowledged
 * when it kills this process:
 *   open {"completed":[…],"pending":[…],…}  what the checkpoint held when it opened
 *   start <key>                              about to mark the item in progress
 *   ack <key>                                markItemCompleted resolved (acknowledged)
 *   warn <message>                           a warning the checkpoint logged
 *   done                                     every item completed and the checkpoint closed
 *   error <code> <message>                   something failed (exit code 1)
 */
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CheckpointManager } from '../../src/index.js';
import { itemName, markAll, report, STEP, type WorkerConfig } from './protocol.js';

async function main(config: WorkerConfig): Promise<void> {
  const items = Array.from({ length: config.items }, (_, i) => itemName(i));
  const name = basename(config.path);
  const expected = new Set([name, `${name}.journal`, `${name}.lock`]);
  const leftovers = readdirSync(dirname(config.path)).filter((file) => !expected.has(file) && !file.startsWith(`${name}.bak`));
  const cp = await CheckpointManager.open({
    path: config.path,
    pipeline: 'crash-test',
    durability: config.durability,
    ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize, batchIntervalMs: 50 }),
    minCompactBytes: config.minCompactBytes,
    backups: 2,
    logger: { warn: (message: string) => report(`warn ${message.replace(/\n/g, ' ')}`), error: (message: string) => report(`warn ${message}`) },
  });
  const pending = cp.pendingItems(STEP, items);
  const completed = items.filter((item) => cp.isItemCompleted(STEP, item));
  report(`open ${JSON.stringify({ completed, pending, leftovers })}`);

  await markAll(cp, pending, config.concurrency, report);
  await cp.close();
  report('done');
}

main(JSON.parse(process.argv[2] ?? '{}') as WorkerConfig).catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  report(`error ${code ?? 'UNKNOWN'} ${String(message).replace(/\n/g, ' ')}`);
  process.exitCode = 1;
});
