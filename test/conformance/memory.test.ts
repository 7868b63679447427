import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { describeStoreConformance } from '../../src/testing.js';

describeStoreConformance({ describe, it, expect }, {
  name: 'MemoryStore',
  createStore: () => {
    // One instance is one checkpoint: reopening the same instance is a resume.
    const store = new MemoryStore();
    return { create: () => store };
  },
});
