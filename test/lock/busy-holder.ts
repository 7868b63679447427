/**
 * A child process for the lock attack tests: opens the checkpoint given as its first argument
 * and marks items in a loop the way a CPU-bound pipeline does — synchronous work before each
 * awaited mark, so that with `normal` durability the event loop never turns and no timer runs.
 * The second argument is a JSON {@link HolderPlan}. It reports on stdout, one line each:
 *   open                  the checkpoint is open and locked by this process
 *   ack <key>             the mark of <key> resolved (acknowledged)
 *   refused <key> <code>  the mark of <key> rejected
 *   stuck <key>           it entered the long synchronous item
 *   holding               it stopped marking and keeps the checkpoint open until killed
 *   closing               it stopped marking and is about to close the checkpoint
 *   done                  it stopped marking and closed (or failed to close) the checkpoint
 *   error <code> <msg>    opening failed
 */
import { existsSync, writeSync } from 'node:fs';
import { CheckpointLockedError, CheckpointManager, type Durability } from '../../src/index.js';

export interface HolderPlan {
  /** Keys are `<prefix><n>`. */
  prefix: string;
  items: number;
  /** Synchronous work before each mark, in wall-clock milliseconds. */
  busyMs: number;
  durability?: Durability;
  minCompactBytes?: number;
  /** At this item, spin synchronously until the file `stuckUntil` exists. */
  stuckAt?: number;
  stuckUntil?: string;
  /** Stop after this many refused marks. */
  maxRefusals?: number;
  /** Keep trying to open while the checkpoint is locked (to take over a stale lock). */
  waitForLock?: boolean;
  /** After the last mark, keep the checkpoint open until killed. */
  holdOpen?: boolean;
}

const report = (line: string): void => {
  writeSync(1, `${line}\n`);
};

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Synchronous work: parsing, image processing, a blocking SDK call…
  }
}

function open(path: string, plan: HolderPlan): Promise<CheckpointManager> {
  return CheckpointManager.open({
    path,
    pipeline: 'lock-attack',
    durability: plan.durability ?? 'normal',
    ...(plan.minCompactBytes === undefined ? {} : { minCompactBytes: plan.minCompactBytes }),
    logger: { warn: () => {}, error: () => {} },
  });
}

async function main(path: string, plan: HolderPlan): Promise<void> {
  let cp: CheckpointManager | undefined;
  while (!cp) {
    cp = await open(path, plan).catch(async (error: unknown) => {
      if (!plan.waitForLock || !(error instanceof CheckpointLockedError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return undefined;
    });
  }
  report('open');
  let refusals = 0;
  for (let n = 0; n < plan.items && refusals < (plan.maxRefusals ?? 3); n++) {
    const key = `${plan.prefix}${n}`;
    spin(plan.busyMs);
    if (n === plan.stuckAt && plan.stuckUntil) {
      report(`stuck ${key}`);
      while (!existsSync(plan.stuckUntil)) spin(5);
    }
    try {
      await cp.markItemCompleted('work', key);
      report(`ack ${key}`);
    } catch (error) {
      refusals++;
      report(`refused ${key} ${(error as { code?: string }).code ?? 'UNKNOWN'}`);
    }
  }
  if (plan.holdOpen) {
    report('holding');
    await new Promise(() => setInterval(() => {}, 60_000));
  }
  report('closing');
  await cp.close().catch(() => {});
  report('done');
}

main(process.argv[2] ?? '', JSON.parse(process.argv[3] ?? '{}') as HolderPlan).catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  report(`error ${code ?? 'UNKNOWN'} ${String(message).replace(/\n/g, ' ')}`);
  process.exitCode = 1;
});
