import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonLinesStore } from '../../examples/custom-store.js';
import { describeStoreConformance } from '../../src/testing.js';

// The store from docs/stores.md: proof that the "write your own store" page is true.
describeStoreConformance({ describe, it, expect }, {
  name: 'JsonLinesStore (custom store example)',
  createStore: () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-custom-'));
    const path = join(directory, 'checkpoint.jsonl');
    return { create: () => new JsonLinesStore(path), cleanup: () => rmSync(directory, { recursive: true, force: true }) };
  },
});
