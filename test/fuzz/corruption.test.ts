import { describe, expect, it } from 'vitest';
import { runCorruptionFuzz } from './corruption-property.js';

// `npm run test:torture` runs the same property with 1,000 cases per format.
describe('random corruption of snapshot, journal and backup bytes', () => {
  for (const format of ['json', 'yaml'] as const) {
    it(`${format}: 100 damaged checkpoints each open as saved, recover from a backup, or fail with a CheckpointError`, async () => {
      const result = await runCorruptionFuzz(format, 100);
      expect(result.report).toBeUndefined();
      expect(result.cases).toBe(100);
      // The damage must actually be exercised both ways.
      expect(result.recovered + result.typedErrors).toBeGreaterThan(0);
    });
  }
});
