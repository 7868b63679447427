import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonLinesStore } from '../../examples/custom-store.js';
import type { CheckpointStore } from '../../src/index.js';
import { JsonFileStore, YamlFileStore } from '../../src/stores/file/file-store.js';
import { DURABILITIES } from '../../src/stores/write-batcher.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { describeStoreConformance, type StoreConformanceOptions } from '../../src/testing.js';

/** A store of a checkpoint `name` in a new directory, removed after the test. */
const inDirectory = (name: string, make: (file: string) => CheckpointStore): StoreConformanceOptions['createStore'] => () => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-conformance-'));
  const file = join(directory, name);
  return { create: () => make(file), cleanup: () => rmSync(directory, { recursive: true, force: true }) };
};

const fileStores = [
  { Store: JsonFileStore, file: 'pipeline_checkpoint.json' },
  { Store: YamlFileStore, file: 'pipeline_state.yaml' },
];

/** Every store of the library (the object stores are in test/object, beside their servers), and the custom store of docs/stores.md. */
const stores: StoreConformanceOptions[] = [
  ...fileStores.flatMap(({ Store, file }) => [
    ...DURABILITIES.map((durability) => ({
      name: `${Store.name} (${durability})`,
      // A batch larger than any test's marks: only close() can have written them (flush on close).
      createStore: inDirectory(file, (path) => new Store(path, { durability, batchSize: 1_000_000, batchIntervalMs: 60_000 })),
    })),
    { name: `${Store.name} (compacting on every write)`, createStore: inDirectory(file, (path) => new Store(path, { minCompactBytes: 1, backups: 1 })), volume: 1000 },
  ]),
  {
    name: 'MemoryStore',
    createStore: () => {
      // One instance is one checkpoint: reopening the same instance is a resume.
      const store = new MemoryStore();
      return { create: () => store };
    },
  },
  // Proof that the "write your own store" page is true.
  { name: 'JsonLinesStore (custom store example)', createStore: inDirectory('checkpoint.jsonl', (path) => new JsonLinesStore(path)) },
];

for (const options of stores) describeStoreConformance({ describe, it, expect }, options);
