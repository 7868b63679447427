import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonFileStore } from '../../src/stores/file/file-store.js';
import type { Durability } from '../../src/stores/file/file-store-options.js';
import { describeStoreConformance } from '../../src/testing.js';

for (const durability of ['normal', 'full', 'batched'] satisfies Durability[]) {
  describeStoreConformance({ describe, it, expect }, {
    name: `JsonFileStore (${durability})`,
    createStore: () => {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-json-'));
      const file = join(directory, 'pipeline_checkpoint.json');
      return {
        // A batch larger than any test's marks: only close() can have written them (flush on close).
        create: () => new JsonFileStore(file, { durability, batchSize: 1_000_000, batchIntervalMs: 60_000 }),
        cleanup: () => rmSync(directory, { recursive: true, force: true }),
      };
    },
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'JsonFileStore (compacting on every write)',
  createStore: () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-json-'));
    const file = join(directory, 'pipeline_checkpoint.json');
    return {
      create: () => new JsonFileStore(file, { minCompactBytes: 1, backups: 1 }),
      cleanup: () => rmSync(directory, { recursive: true, force: true }),
    };
  },
  volume: 1000,
});
