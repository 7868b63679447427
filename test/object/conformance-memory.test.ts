import { describe, expect, it } from 'vitest';
import { jsonFormat, yamlFormat } from '../../src/stores/file/snapshot-formats.js';
import { MemoryBucket } from '../../src/stores/object/memory-bucket.js';
import { ObjectStore } from '../../src/stores/object/object-store.js';
import { describeStoreConformance } from '../../src/testing.js';

for (const durability of ['full', 'normal', 'batched'] as const) {
  describeStoreConformance({ describe, it, expect }, {
    name: `ObjectStore on MemoryBucket (${durability})`,
    createStore: () => {
      const bucket = new MemoryBucket('memory://bucket');
      // Intervals longer than any test: only flush, close or a full batch writes a segment.
      return { create: () => new ObjectStore(bucket, 'runs/42/checkpoint.json', jsonFormat, { durability, batchIntervalMs: 600_000 }) };
    },
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'ObjectStore on MemoryBucket (YAML, compacting on every segment)',
  createStore: () => {
    const bucket = new MemoryBucket('memory://bucket');
    return { create: () => new ObjectStore(bucket, 'checkpoint.yaml', yamlFormat, { durability: 'full', minCompactBytes: 1, maxSegments: 1 }) };
  },
  volume: 1000,
});
