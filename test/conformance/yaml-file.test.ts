import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YamlFileStore } from '../../src/stores/file/file-store.js';
import type { Durability } from '../../src/stores/file/file-store-options.js';
import { describeStoreConformance } from '../../src/testing.js';

for (const durability of ['normal', 'full', 'batched'] satisfies Durability[]) {
  describeStoreConformance({ describe, it, expect }, {
    name: `YamlFileStore (${durability})`,
    createStore: () => {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-yaml-'));
      const file = join(directory, 'pipeline_state.yaml');
      return {
        // A batch larger than any test's marks: only close() can have written them (flush on close).
        create: () => new YamlFileStore(file, { durability, batchSize: 1_000_000, batchIntervalMs: 60_000 }),
        cleanup: () => rmSync(directory, { recursive: true, force: true }),
      };
    },
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'YamlFileStore (compacting on every write)',
  createStore: () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-yaml-'));
    const file = join(directory, 'pipeline_state.yaml');
    return {
      create: () => new YamlFileStore(file, { minCompactBytes: 1, backups: 1 }),
      cleanup: () => rmSync(directory, { recursive: true, force: true }),
    };
  },
  volume: 1000,
});
