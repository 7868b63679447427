import { join } from 'node:path';
import { CheckpointManager, JsonFileStore, type Durability } from '../../../src/index.js';
import { keyOf } from '../lib/measure.js';
import { STEP } from './raw-append.js';

export async function openCheckpoint(directory: string, durability: Durability): Promise<CheckpointManager> {
  return CheckpointManager.open({ store: new JsonFileStore(join(directory, 'checkpoint.json'), { durability }), pipeline: 'bench' });
}

/**
 * Milliseconds to mark `count` items completed with `concurrency` loops sharing the work, each
 * awaiting its marks, then `flush()` (so every mode ends with its records fsynced, like the
 * raw baseline). Opening and closing the checkpoint are not timed.
 */
export async function timeMarks(directory: string, durability: Durability, count: number, concurrency = 1): Promise<number> {
  return (await measureMarks(directory, durability, count, concurrency)).ms;
}

/** As {@link timeMarks}, plus the CPU time this process spent (user + system), which a busy machine disturbs less. */
export async function measureMarks(directory: string, durability: Durability, count: number, concurrency = 1): Promise<{ ms: number; cpuMs: number }> {
  const checkpoint = await openCheckpoint(directory, durability);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await checkpoint.markItemCompleted(STEP, keyOf(i));
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  await checkpoint.flush();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await checkpoint.close();
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}
