/**
 * A child for the lock tests. Waits until the time given (so that all children open at once),
 * opens the checkpoint and prints one line:
 *   won                      it holds the lock and has marked `held` (then waits for stdin to close)
 *   locked <ms> <pid>        CheckpointLockedError after <ms>, naming the holder's pid
 *   error <code> <message>   anything else
 */
import { writeSync } from 'node:fs';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { CheckpointLockedError } from '../../src/core/errors.js';

const [path, startAt] = process.argv.slice(2) as [string, string];
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const started = performance.now();
try {
  const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: { warn: () => {}, error: () => {} } });
  await cp.markItemCompleted('step', 'held');
  // Said once the mark is acknowledged, so a holder killed right after "won" has it saved.
  say('won');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await cp.close();
} catch (error) {
  if (error instanceof CheckpointLockedError) say(`locked ${Math.round(performance.now() - started)} ${error.pid}`);
  else say(`error ${(error as { code?: string }).code ?? 'UNKNOWN'} ${(error as Error).message}`);
}
