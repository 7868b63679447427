// Must come first: it wraps node:fs before the library binds to it (here: to count the fsyncs).
import { disk } from '../crash/power-loss-fs.js';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { tempDir } from './helpers.js';

afterEach(() => disk.stop());

const journalSyncs = (): number => disk.events.filter((event) => event.kind === 'fsync' && event.file.endsWith('.journal')).length;

it('fsyncIntervalMs: 0 means no periodic fsync — not one per mark', async () => {
  const directory = tempDir();
  const cp = await CheckpointManager.open({ path: join(directory, 'cp.json'), fsyncIntervalMs: 0, minCompactBytes: 1 << 30 });
  disk.watch(directory);
  for (let i = 0; i < 200; i++) await cp.markItemCompleted('s', `k${i}`);
  expect(journalSyncs()).toBe(0);
  await cp.flush(); // flush still syncs
  expect(journalSyncs()).toBe(1);
  await cp.close();
});

it('a tight loop of marks starts the periodic fsync itself, at most once per interval', async () => {
  const directory = tempDir();
  const cp = await CheckpointManager.open({ path: join(directory, 'cp.json'), fsyncIntervalMs: 60_000, minCompactBytes: 1 << 30 });
  disk.watch(directory);
  for (let i = 0; i < 2000; i++) await cp.markItemCompleted('s', `k${i}`);
  // The first mark after open finds the interval passed (nothing synced yet); none after it.
  expect(journalSyncs()).toBeLessThanOrEqual(1);
  await cp.close();
});
