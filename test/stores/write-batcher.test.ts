import { describe, expect, it, vi } from 'vitest';
import { WriteBatcher } from '../../src/stores/write-batcher.js';

/** A commit that records its batches and finishes only when the test lets it. */
function gatedCommit<T>() {
  const batches: T[][] = [];
  const gates: (() => void)[] = [];
  let committed: (() => void) | undefined;
  return {
    batches,
    commit: (batch: T[]): Promise<void> => {
      batches.push(batch);
      committed?.();
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    /** Lets the oldest waiting commit finish. */
    open: () => gates.shift()!(),
    /** Resolves at the next commit. */
    nextCommit: () => new Promise<void>((resolve) => (committed = resolve)),
  };
}

describe('WriteBatcher: group commit', () => {
  it('commits the adds of one tick together, and those made while it runs together in the next', async () => {
    const gate = gatedCommit<number>();
    const batcher = new WriteBatcher<number>({ commit: gate.commit });
    const first = [1, 2, 3].map((n) => batcher.add(n));
    await gate.nextCommit();
    const second = [4, 5].map((n) => batcher.add(n));
    const secondCommit = gate.nextCommit();
    gate.open();
    await Promise.all(first);
    await secondCommit;
    gate.open();
    await Promise.all(second);
    expect(gate.batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('resolves an add only once the commit holding it has finished', async () => {
    const gate = gatedCommit<number>();
    const batcher = new WriteBatcher<number>({ commit: gate.commit });
    let resolved = false;
    const added = batcher.add(1).then(() => (resolved = true));
    await gate.nextCommit();
    await Promise.resolve();
    expect(resolved).toBe(false);
    gate.open();
    await added;
    expect(resolved).toBe(true);
  });

  it('never loses an add made by a caller the previous commit just woke', async () => {
    const committed: number[] = [];
    const batcher = new WriteBatcher<number>({ commit: async (batch) => void committed.push(...batch) });
    for (let i = 0; i < 200; i++) await batcher.add(i);
    expect(committed).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('hands each add its own result, and takes at most maxBatch entries a commit', async () => {
    const sizes: number[] = [];
    const batcher = new WriteBatcher<number, number>({ commit: async (batch) => (sizes.push(batch.length), batch.map((n) => n * 10)), maxBatch: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(sizes).toEqual([4, 4, 2]);
  });
});

describe('WriteBatcher: gatherMs', () => {
  it('the first add waits gatherMs for others, which join its commit; later ones gather while it runs', async () => {
    vi.useFakeTimers();
    try {
      const gate = gatedCommit<number>();
      const batcher = new WriteBatcher<number>({ commit: gate.commit, gatherMs: 10 });
      const first = batcher.add(1);
      await vi.advanceTimersByTimeAsync(9);
      expect(gate.batches).toEqual([]);
      const second = batcher.add(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(gate.batches).toEqual([[1, 2]]);
      const third = batcher.add(3);
      gate.open();
      await Promise.all([first, second]);
      // The add made while the commit ran goes in the next one at once, without a wait of its own.
      await vi.advanceTimersByTimeAsync(0);
      expect(gate.batches).toEqual([[1, 2], [3]]);
      gate.open();
      await third;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('WriteBatcher: the failure latch', () => {
  it('rejects the failed batch, everything waiting and every later add and flush with the first error', async () => {
    const gate = gatedCommit<number>();
    let fail = true;
    const batcher = new WriteBatcher<number>({
      commit: async (batch) => {
        await gate.commit(batch);
        if (fail) throw new Error(`disk full at ${batch[0]}`);
      },
    });
    const failed = batcher.add(1);
    await gate.nextCommit();
    const waiting = batcher.add(2);
    gate.open();
    await expect(failed).rejects.toThrow('disk full at 1');
    await expect(waiting).rejects.toThrow('disk full at 1');
    fail = false;
    await expect(batcher.add(3)).rejects.toThrow('disk full at 1');
    await expect(batcher.flush()).rejects.toThrow('disk full at 1');
    expect(gate.batches).toEqual([[1]]);
  });

  it('with latch: false fails only the failed batch', async () => {
    let calls = 0;
    const broken = new WriteBatcher<number>({
      commit: async () => {
        if (calls++ === 0) throw new Error('once');
      },
      latch: false,
    });
    await expect(broken.add(1)).rejects.toThrow('once');
    await expect(broken.add(2)).resolves.toBeUndefined();
    await expect(broken.flush()).resolves.toBeUndefined();
  });

  it('latches a failure the store reports itself (fail), keeping the first one', async () => {
    const batcher = new WriteBatcher<number>({ commit: () => {}, latch: false });
    batcher.fail(new Error('first'));
    batcher.fail(new Error('second'));
    await expect(batcher.add(1)).rejects.toThrow('first');
    expect((batcher.failure as Error).message).toBe('first');
  });
});

describe('WriteBatcher: batched', () => {
  it('resolves adds at once and commits when a batch fills, then the rest after the interval', async () => {
    const batches: number[][] = [];
    let committed: (() => void) | undefined;
    const batcher = new WriteBatcher<number>({
      commit: (batch) => {
        batches.push(batch);
        committed?.();
      },
      batch: { size: 3, intervalMs: 5 },
    });
    await batcher.add(1);
    await batcher.add(2);
    expect(batches).toEqual([]);
    await batcher.add(3);
    expect(batches).toEqual([[1, 2, 3]]);
    const byTimer = new Promise<void>((resolve) => (committed = resolve));
    await batcher.add(4);
    expect(batcher.pending).toBe(1);
    await byTimer;
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('tells a failed commit made by the timer to onUnwatchedFailure, and refuses what comes after', async () => {
    let batcher!: WriteBatcher<number>;
    const unwatched = new Promise<unknown>((resolve) => {
      batcher = new WriteBatcher<number>({
        commit: () => {
          throw new Error('no space');
        },
        batch: { size: 100, intervalMs: 1 },
        onUnwatchedFailure: resolve,
      });
    });
    await batcher.add(1);
    expect(((await unwatched) as Error).message).toBe('no space');
    await expect(batcher.add(2)).rejects.toThrow('no space');
  });

  it('synchronous: the add that fills a batch commits it before it returns, and throws its failure', () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number>({
      commit: (batch) => {
        if (batch.includes(6)) throw new Error('no space');
        batches.push(batch);
      },
      batch: { size: 3, intervalMs: 60_000 },
      synchronous: true,
    });
    for (const n of [1, 2, 3]) void batcher.add(n);
    expect(batches).toEqual([[1, 2, 3]]);
    void batcher.add(4);
    void batcher.add(5);
    expect(() => batcher.add(6)).toThrow('no space');
    expect((batcher.failure as Error).message).toBe('no space');
  });

  it('discard forgets what waits and stops the timer', async () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number>({ commit: (batch) => void batches.push(batch), batch: { size: 10, intervalMs: 1 } });
    await batcher.add(1);
    await batcher.discard();
    await batcher.flush();
    expect(batches).toEqual([]);
    expect(batcher.pending).toBe(0);
  });
});
