import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Durability } from '../../src/index.js';
import { tortureRun } from './kill-torture.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

// The short run of `npm run test:torture`: a few aimed and random kills per format and mode.
// One case per durability mode, alternating the formats; the long run covers every pair.
const cases: Array<{ format: 'json' | 'yaml'; durability: Durability; batchSize?: number }> = [
  { format: 'json', durability: 'full' },
  { format: 'yaml', durability: 'normal' },
  { format: 'json', durability: 'batched', batchSize: 10 },
];
const KILLS = 3;

describe('kill -9 torture (short)', () => {
  for (const [index, test] of cases.entries()) {
    it(`${test.format}, ${test.durability}: ${KILLS} aimed or random kills over 150 items, nothing acknowledged lost`, async () => {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-torture-'));
      directories.push(directory);
      const result = await tortureRun({
        path: join(directory, `checkpoint.${test.format}`),
        durability: test.durability,
        items: 150,
        kills: KILLS,
        concurrency: 3,
        seed: 9000 + index,
        ...(test.batchSize ? { batchSize: test.batchSize } : {}),
      });
      expect(result.violations).toEqual([]);
      expect(result.kills).toBeGreaterThanOrEqual(KILLS);
      if (test.durability === 'batched') expect(result.maxLostPerKill).toBeLessThanOrEqual(test.batchSize!);
    });
  }
});
