import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import { CheckpointState } from '../../src/core/state.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { jsonFormat } from '../../src/stores/file/snapshot-formats.js';
import type { ObjectBucket, StoredObject } from '../../src/stores/object/bucket.js';
import { MemoryBucket } from '../../src/stores/object/memory-bucket.js';
import { ObjectStore } from '../../src/stores/object/object-store.js';
import { readObjectCheckpoint } from '../../src/stores/object/read-object-checkpoint.js';

const KEY = 'runs/7/checkpoint.json';
const SEGMENTS = `${KEY}.segments/`;
const managers: CheckpointManager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close().catch(() => {});
});

async function holder(bucket: ObjectBucket): Promise<CheckpointManager> {
  const store = new ObjectStore(bucket, KEY, jsonFormat, { durability: 'full', maxSegments: 3 });
  const manager = await CheckpointManager.open({ store, pipeline: 'p', logger: { warn: () => {}, error: () => {} } });
  managers.push(manager);
  return manager;
}

/** A reader's view of the bucket that runs `before` the first time it fetches a segment. */
function readerView(bucket: ObjectBucket, before: (key: string) => Promise<void>): ObjectBucket {
  let fired = false;
  return {
    location: bucket.location,
    async get(key: string): Promise<StoredObject | undefined> {
      if (!fired && key.startsWith(SEGMENTS)) {
        fired = true;
        await before(key);
      }
      return bucket.get(key);
    },
    create: (key, body) => bucket.create(key, body),
    replace: (key, body, version) => bucket.replace(key, body, version),
    delete: (key, version) => bucket.delete(key, version),
    list: (prefix) => bucket.list(prefix),
  };
}

const completedOf = async (bucket: ObjectBucket): Promise<number> => {
  const read = await readObjectCheckpoint(bucket, KEY, jsonFormat);
  const state = CheckpointState.fromDocument(read.snapshot!.content, 100);
  for (const record of read.records) state.apply(record.change);
  return state.step('s').completed.size;
};

describe('reading a checkpoint while its holder writes', () => {
  it('reads again when a compaction deletes a listed segment before it is fetched', async () => {
    const bucket = new MemoryBucket();
    const cp = await holder(bucket);
    for (let n = 0; n < 2; n++) await cp.markItemCompleted('s', `item-${n}`);
    let marked = 2;
    let vanished: string | undefined;
    const view = readerView(bucket, async (segment) => {
      // The holder goes on marking until its compaction has folded and deleted this very segment.
      while ((await bucket.get(segment)) !== undefined) {
        if (marked > 500) throw new Error(`${segment} was never folded`);
        await cp.markItemCompleted('s', `item-${marked++}`);
      }
      vanished = segment;
    });
    const seen = await completedOf(view);
    expect(vanished).toBeDefined();
    // Every mark acknowledged before the read started is in it, and nothing beyond what was marked.
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThanOrEqual(marked);
    await cp.flush();
    expect(await completedOf(bucket)).toBe(marked);
  });

  it('lists by the snapshot\'s own name, so that an error names it and not `<key>.`', async () => {
    const bucket = new MemoryBucket();
    const cp = await holder(bucket);
    await cp.markItemCompleted('s', 'a');
    const prefixes: string[] = [];
    const view: ObjectBucket = { ...readerView(bucket, async () => {}), list: (prefix) => (prefixes.push(prefix), bucket.list(prefix)) };
    await readObjectCheckpoint(view, KEY, jsonFormat);
    expect(prefixes).toEqual([KEY]);
  });

  it('still reports a segment deleted by hand, which no reading again brings back', async () => {
    const bucket = new MemoryBucket();
    const cp = await holder(bucket);
    for (let n = 0; n < 2; n++) await cp.markItemCompleted('s', `item-${n}`);
    const [first] = (await bucket.list(SEGMENTS)).map((entry) => entry.key);
    await bucket.delete(first!);
    const error = await readObjectCheckpoint(bucket, KEY, jsonFormat).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect(String(error)).toMatch(/changes after 0 are missing|was listed but is gone/);
  });
});
