/**
 * Builds a checkpoint for scenario 12 in a process of its own: marks `items` items completed with
 * compaction held off (the journal grows; nothing is folded into the snapshot), then either closes
 * (one compaction: a big snapshot) or prints `marked` and waits to be killed with SIGKILL (a
 * journal that was never compacted, as a crash leaves it).
 * Usage: build-child.ts <directory> <items> <normal|batched> <close|kill>
 */
import { join } from 'node:path';
import { CheckpointManager, JsonFileStore, type Durability } from '../../src/index.js';
import { keyOf } from './lib/measure.js';
import { STEP } from './scenarios/raw-append.js';

const [directory, itemsText, durability, finish] = process.argv.slice(2) as [string, string, Durability, 'close' | 'kill'];
const store = new JsonFileStore(join(directory, 'checkpoint.json'), { durability, minCompactBytes: Number.MAX_SAFE_INTEGER, snapshotIntervalMs: 0 });
const checkpoint = await CheckpointManager.open({ store, pipeline: 'bench' });
for (let i = 0, count = Number(itemsText); i < count; i++) await checkpoint.markItemCompleted(STEP, keyOf(i));
if (finish === 'close') {
  await checkpoint.close();
  process.stdout.write('closed\n');
} else {
  // Every `normal` record is in the operating system once its mark resolves: the kill loses none.
  process.stdout.write('marked\n');
  await new Promise(() => {});
}
