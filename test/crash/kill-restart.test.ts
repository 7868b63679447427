import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointManager, type Durability } from '../../src/index.js';
import { killLoop, type Scenario } from './kill-loop.js';
import { itemName, STEP } from './protocol.js';

const ITEMS = 500;
const directories: string[] = [];
let compactionKills = 0;

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface Case {
  format: 'json' | 'yaml';
  durability: Durability;
  kills: number;
  concurrency: number;
  batchSize?: number;
}

// 22 kills while marking, spread over both formats and the three durability modes.
const cases: Case[] = [
  { format: 'json', durability: 'normal', kills: 5, concurrency: 1 },
  { format: 'yaml', durability: 'normal', kills: 4, concurrency: 2 },
  { format: 'json', durability: 'full', kills: 4, concurrency: 4 },
  { format: 'yaml', durability: 'full', kills: 3, concurrency: 4 },
  { format: 'json', durability: 'batched', kills: 3, concurrency: 2, batchSize: 8 },
  { format: 'yaml', durability: 'batched', kills: 3, concurrency: 1, batchSize: 8 },
];

async function finalCheck(path: string, starts: Map<string, number>): Promise<void> {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
  const cp = await CheckpointManager.open({ path, pipeline: 'crash-test', logger });
  try {
    const items = Array.from({ length: ITEMS }, (_, i) => itemName(i));
    expect(cp.pendingItems(STEP, items)).toEqual([]);
    expect(cp.getProgressSummary().steps[STEP]).toMatchObject({ completed: ITEMS, failed: 0, inProgress: 0 });
    for (const item of items) {
      // Every start that reached the checkpoint counts as an attempt; a start whose record a
      // kill cut off does not, so attempts never exceed the starts the worker reported.
      const { attempts } = cp.getItem(STEP, item);
      expect(attempts, item).toBeGreaterThanOrEqual(1);
      expect(attempts, item).toBeLessThanOrEqual(starts.get(item) ?? 0);
    }
  } finally {
    await cp.close();
  }
  expect(warnings).toEqual([]);
}

describe('a worker killed with SIGKILL at random moments and restarted', () => {
  for (const [index, test] of cases.entries()) {
    const name = `${test.format}, durability ${test.durability}${test.batchSize ? ` (batchSize ${test.batchSize})` : ''}, ${test.kills} kills`;
    it(name, async () => {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-crash-'));
      directories.push(directory);
      const path = join(directory, `checkpoint.${test.format}`);
      const scenario: Scenario = {
        path,
        durability: test.durability,
        kills: test.kills,
        items: ITEMS,
        concurrency: test.concurrency,
        seed: 1000 + index,
        ...(test.batchSize ? { batchSize: test.batchSize } : {}),
      };
      const result = await killLoop(scenario);
      compactionKills += result.compactionKills;

      expect(result.violations).toEqual([]);
      expect(result.kills).toBeGreaterThanOrEqual(test.kills);
      if (test.durability === 'batched') {
        for (const lost of result.lostPerKill) expect(lost).toBeLessThanOrEqual(test.batchSize!);
      }
      // Items are started more than once only when a kill interrupted them before their ack
      // (`batched`: or when the kill lost their ack with the unwritten batch).
      const restarted = [...result.starts.values()].filter((count) => count > 1).length;
      expect(restarted).toBeLessThanOrEqual((result.kills + result.earlyKills) * (test.concurrency + (test.batchSize ?? 0)));
      await finalCheck(path, result.starts);
      // Nothing was set aside as damaged.
      expect(readdirSync(directory).filter((file) => file.includes('.corrupt-'))).toEqual([]);
    });
  }

  it('had kills land inside compactions (a sealed journal or a temporary file left behind)', () => {
    // With 4 KiB compactions about a quarter of the kills land in one; none at all would mean
    // the runs above no longer exercise sealing, backup rotation and snapshot writes.
    expect(compactionKills).toBeGreaterThan(0);
  });
});
