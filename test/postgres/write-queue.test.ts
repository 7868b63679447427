import { describe, expect, it } from 'vitest';
import type { CheckpointChange } from '../../src/core/model.js';
import { WriteQueue } from '../../src/stores/postgres/write-queue.js';

const change = (key: string): CheckpointChange => ({ op: 'item', step: 's', key, status: 'completed', attempts: 1, at: 0 });

describe('WriteQueue', () => {
  it('sends a change appended by a caller that the previous batch just woke (no lost wake-up)', async () => {
    const sent: string[] = [];
    const queue = new WriteQueue(async (changes) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      for (const c of changes) if (c.op === 'item') sent.push(c.key);
    }, { durability: 'full', batchSize: 100, batchIntervalMs: 1000 });
    // Each append is made the moment the previous one resolves, as an awaiting loop does; a lost
    // wake-up leaves an append pending forever and the test times out.
    for (let i = 0; i < 50; i++) await queue.append(change(`k${i}`));
    await queue.flush();
    expect(sent).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));
  });
});
