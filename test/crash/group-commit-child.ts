/**
 * A child process for the group-commit test: counts the write system calls (Linux
 * /proc/self/io `syscw`) that 16 concurrent `full` marks cost, and 16 marks one after another,
 * and reports both as one JSON line on stdout.
 */
import { readFileSync, writeSync } from 'node:fs';
import { CheckpointManager } from '../../src/index.js';

const MARKS = 16;

function writeCalls(): number {
  const match = /^syscw: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (!match) throw new Error('/proc/self/io has no syscw line');
  return Number(match[1]);
}

async function main(path: string): Promise<void> {
  const cp = await CheckpointManager.open({ path, durability: 'full' });
  await cp.markItemCompleted('warm-up', 'first');

  let before = writeCalls();
  await Promise.all(Array.from({ length: MARKS }, (_, i) => cp.markItemCompleted('concurrent', `item-${i}`)));
  const concurrent = writeCalls() - before;

  before = writeCalls();
  for (let i = 0; i < MARKS; i++) await cp.markItemCompleted('sequential', `item-${i}`);
  const sequential = writeCalls() - before;

  await cp.close();
  writeSync(1, `${JSON.stringify({ concurrent, sequential })}\n`);
}

await main(process.argv[2] ?? '');
