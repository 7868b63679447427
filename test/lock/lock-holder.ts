/**
 * A child process for the lock tests: opens (and so locks) the checkpoint given as its first
 * argument, then does what the parent tells it on stdin, reporting on stdout:
 *   open                      the checkpoint is open and locked by this process
 *   mark <key>  → ack <key>   the item was marked completed
 *               → refused <code> <message>
 *   close       → closed      the checkpoint was closed (the process then exits)
 *   warn <message>            a warning the checkpoint logged (e.g. "lock lost")
 *   error <code> <message>    opening failed (exit code 1)
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CheckpointManager } from '../../src/index.js';

const report = (line: string): void => {
  writeSync(1, `${line}\n`);
};
const oneLine = (text: string): string => text.replace(/\n/g, ' ');

async function main(path: string): Promise<void> {
  const cp = await CheckpointManager.open({
    path,
    pipeline: 'lock-test',
    logger: { warn: (message: string) => report(`warn ${oneLine(message)}`), error: (message: string) => report(`warn ${oneLine(message)}`) },
  });
  report('open');
  const commands = createInterface({ input: process.stdin });
  for await (const command of commands) {
    const [verb, key = ''] = command.split(' ');
    if (verb === 'mark') {
      try {
        await cp.markItemCompleted('lock', key);
        report(`ack ${key}`);
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        report(`refused ${code ?? 'UNKNOWN'} ${oneLine(String(message))}`);
      }
    } else if (verb === 'close') {
      await cp.close();
      report('closed');
      commands.close();
    }
  }
}

main(process.argv[2] ?? '').catch((error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  report(`error ${code ?? 'UNKNOWN'} ${oneLine(String(message))}`);
  process.exitCode = 1;
});
