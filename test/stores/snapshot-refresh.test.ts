import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointManager, type FlushEvent } from '../../src/index.js';
import { tempDir } from './helpers.js';

const completedIn = (path: string, step: string): string[] =>
  (JSON.parse(readFileSync(path, 'utf8')) as { steps: Record<string, { completedItems: string[] }> }).steps[step]?.completedItems ?? [];

/** Resolves with the next `flush` event whose reason is `reason`. */
const nextFlush = (cp: CheckpointManager, reason: string): Promise<FlushEvent> =>
  new Promise((resolve) => {
    const off = cp.on('flush', (event) => {
      if (event.reason !== reason) return;
      off();
      resolve(event);
    });
  });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the snapshot is refreshed while marks flow (snapshotIntervalMs)', () => {
  for (const durability of ['normal', 'batched', 'full'] as const) {
    it(`${durability}: a run that pauses between marks gets its snapshot refreshed by the timer`, async () => {
      const path = join(tempDir(), 'cp.json');
      const cp = await CheckpointManager.open({ path, durability, snapshotIntervalMs: 20, batchIntervalMs: 5 });
      try {
        await cp.markItemCompleted('s', 'a');
        await cp.markItemCompleted('s', 'b');
        // A refresh may have caught 'a' alone; the next one takes in 'b' too.
        while (completedIn(path, 's').length < 2) await nextFlush(cp, 'snapshot refresh');
        // The lock is still held, the journal not closed: the file people cat holds the marks.
        expect(completedIn(path, 's')).toEqual(['a', 'b']);
      } finally {
        await cp.close();
      }
    });
  }

  it('a tight loop that never lets timers run refreshes it from the marks, at most once per interval', async () => {
    const path = join(tempDir(), 'cp.json');
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const cp = await CheckpointManager.open({ path }); // the default: 30 s
    const refreshes: FlushEvent[] = [];
    cp.on('flush', (event) => {
      if (event.reason === 'snapshot refresh') refreshes.push(event);
    });
    try {
      for (let i = 0; i < 1000; i++) await cp.markItemCompleted('s', `k${i}`);
      expect(refreshes).toHaveLength(0); // less than 30 s went by, and the journal is small
      now += 30_000;
      for (let i = 1000; i < 3000; i++) await cp.markItemCompleted('s', `k${i}`);
      // The refresh started from a mark; its writes finish when the event loop gets to them.
      if (refreshes.length === 0) await nextFlush(cp, 'snapshot refresh');
      expect(refreshes).toHaveLength(1);
      expect(completedIn(path, 's').length).toBeGreaterThanOrEqual(1000);
    } finally {
      await cp.close();
    }
    expect(completedIn(path, 's')).toHaveLength(3000);
  });

  it('a loop that never yields and spends milliseconds per item still gets its snapshot refreshed', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await CheckpointManager.open({ path, snapshotIntervalMs: 100 });
    let refreshed = false;
    cp.on('flush', (event) => {
      if (event.reason === 'snapshot refresh') refreshed = true;
    });
    try {
      let marks = 0;
      // 3 ms of synchronous work per item; the loop only awaits marks, which resolve at once.
      for (; marks < 3000 && !refreshed; marks++) {
        const until = performance.now() + 3;
        while (performance.now() < until);
        await cp.markItemCompleted('s', `k${marks}`);
      }
      expect(refreshed).toBe(true);
      expect(completedIn(path, 's').length).toBeGreaterThan(0);
    } finally {
      await cp.close();
    }
  });

  it('snapshotIntervalMs: 0 leaves the snapshot alone until the journal outgrows it', async () => {
    const path = join(tempDir(), 'cp.json');
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const cp = await CheckpointManager.open({ path, snapshotIntervalMs: 0 });
    const reasons: string[] = [];
    cp.on('flush', (event) => reasons.push(event.reason));
    try {
      await cp.markItemCompleted('s', 'a');
      now += 3_600_000;
      for (let i = 0; i < 500; i++) await cp.markItemCompleted('s', `k${i}`);
      expect(reasons).not.toContain('snapshot refresh');
      expect(completedIn(path, 's')).toEqual([]);
    } finally {
      await cp.close();
    }
  });

  it('CHECKPOINTER_SNAPSHOT_INTERVAL_MS sets it without a change to the code', async () => {
    const path = join(tempDir(), 'cp.json');
    vi.stubEnv('CHECKPOINTER_SNAPSHOT_INTERVAL_MS', '20');
    const cp = await CheckpointManager.open({ path });
    vi.unstubAllEnvs();
    try {
      await cp.markItemCompleted('s', 'a');
      while (completedIn(path, 's').length < 1) await nextFlush(cp, 'snapshot refresh');
      expect(completedIn(path, 's')).toEqual(['a']);
    } finally {
      await cp.close();
    }
  });

  it('rejects a bad snapshotIntervalMs with a typed error naming it', async () => {
    const path = join(tempDir(), 'cp.json');
    await expect(CheckpointManager.open({ path, snapshotIntervalMs: -1 })).rejects.toThrow(/snapshotIntervalMs/);
  });
});
