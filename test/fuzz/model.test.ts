import { describe, expect, it } from 'vitest';
import { runModelFuzz } from './model-property.js';

const RUNS = { memory: 100, json: 40, yaml: 25 } as const;

// `npm run test:torture` runs the same properties with 1,000 cases each.
describe('model-based fuzzing: random API call sequences agree with a simple model', () => {
  for (const store of ['memory', 'json', 'yaml'] as const) {
    it(`${store} store, ${RUNS[store]} random sequences with reopens`, async () => {
      const result = await runModelFuzz(store, RUNS[store]);
      expect(result.report).toBeUndefined();
      expect(result.cases).toBe(RUNS[store]);
    });
  }
});
