import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { LeaseLostError } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';

const postgres = usePostgres();

/** A promise that never settles: work that ignores its signal. */
const forever = (): Promise<never> => new Promise<never>(() => {});

describe("a work queue's forEach in one worker", () => {
  it('retries an item in the worker, then marks it failed; results are kept', async () => {
    const store = postgres.store();
    const tries = new Map<string, number>();
    const report = await store.queue('s').forEach(['ok', 'flaky', 'bad'], async (item) => {
      const n = (tries.get(item) ?? 0) + 1;
      tries.set(item, n);
      if (item === 'bad' || (item === 'flaky' && n < 3)) throw new RangeError(`${item} try ${n}`);
      return { item, n };
    }, { retries: 2, backoff: { initialMs: 10 }, leaseMs: 5000 });
    expect(report).toMatchObject({ completed: 2, failed: 1, lost: 0 });
    expect(Object.fromEntries(tries)).toEqual({ ok: 1, flaky: 3, bad: 3 });
    expect(await store.queue('s').countItems()).toEqual({ pending: 0, inProgress: 0, completed: 2, failed: 1, deadLetter: 0 });
    const document = await store.read();
    expect(document?.steps['s']?.completedDetails?.find((detail) => detail.key === 'flaky')?.result).toEqual({ item: 'flaky', n: 3 });
    expect(document?.steps['s']?.failedItems?.[0]).toMatchObject({ key: 'bad', error: { message: 'bad try 3', name: 'RangeError' } });
    expect(document?.errors.map((entry) => entry.key)).toEqual(['bad']);
    await store.close();
  });

  it('retryOn decides which errors are retried', async () => {
    const store = postgres.store();
    let tries = 0;
    const report = await store.queue('s').forEach(['x'], async () => {
      tries++;
      throw new TypeError('a bug, not a blip');
    }, { retries: 5, backoff: { initialMs: 1 }, retryOn: (error) => !(error instanceof TypeError) });
    expect(tries).toBe(1);
    expect(report).toMatchObject({ completed: 0, failed: 1 });
    await store.close();
  });

  it('an aborted signal stops claiming and hands back the items not started', async () => {
    const pipeline = postgres.unique('abort');
    const [store, other] = [postgres.store({ pipeline }), postgres.store({ pipeline })];
    const controller = new AbortController();
    const items = Array.from({ length: 100 }, (_, i) => `item-${i}`);
    let started = 0;
    const report = await store.queue('s').forEach(items, async () => {
      if (++started === 5) controller.abort();
    }, { concurrency: 1, batchSize: 20, signal: controller.signal });
    expect(report.completed).toBe(5);
    expect(await store.queue('s').countItems()).toEqual({ pending: 95, inProgress: 0, completed: 5, failed: 0, deadLetter: 0 });
    // Another worker finishes the rest; released items did not count an attempt.
    const rest = await other.queue('s').forEach(items, async () => {});
    expect(rest.completed).toBe(95);
    const lease = await other.queue('s').claim();
    expect(lease.items).toEqual([]);
    await Promise.all([store.close(), other.close()]);
  });
});

describe('claiming ahead', () => {
  it('the next batch is claimed once half of this one has started, not when it has run out', async () => {
    const store = postgres.store();
    const queue = store.queue('s');
    let started = 0;
    const startedAtClaim: number[] = [];
    const claim = queue.claim.bind(queue);
    vi.spyOn(queue, 'claim').mockImplementation((options) => {
      startedAtClaim.push(started);
      return claim(options);
    });
    const items = Array.from({ length: 40 }, (_, i) => `item-${i}`);
    const report = await queue.forEach(items, async () => {
      started++;
    }, { concurrency: 1, batchSize: 10 });
    expect(report.completed).toBe(40);
    // The first claim before any item; the second once half of the first batch has started, while the rest waits.
    expect(startedAtClaim[0]).toBe(0);
    expect(startedAtClaim[1]).toBeGreaterThan(0);
    expect(startedAtClaim[1]).toBeLessThanOrEqual(6);
    await store.close();
  });
});

describe('completions in a claimed run', () => {
  it('an item frees its slot once handled: the next one runs while its completion waits to commit, and it counts once committed', async () => {
    const pipeline = postgres.unique('slot');
    const store = postgres.store({ pipeline });
    const { schema } = postgres;
    const itemA = `SELECT status FROM "${schema}".items WHERE key = 'a' AND step_id IN (
      SELECT s.id FROM "${schema}".steps s JOIN "${schema}".checkpoints c ON c.id = s.checkpoint_id WHERE c.pipeline = $1)`;
    // Another session holds item a's row, so that its completion cannot commit until that session ends.
    const blocker = await postgres.pool.connect();
    const statusOfA: string[] = [];
    try {
      const report = await store.queue('s').forEach(['a', 'b'], async (item) => {
        if (item === 'a') {
          await blocker.query('BEGIN');
          await blocker.query(`${itemA} FOR UPDATE`, [pipeline]);
          return;
        }
        // With one slot, b runs only if a's slot was freed before a's completion committed.
        statusOfA.push((await postgres.pool.query<{ status: string }>(itemA, [pipeline])).rows[0]!.status);
        await blocker.query('COMMIT');
      }, { concurrency: 1, batchSize: 2 });
      expect(statusOfA).toEqual(['in_progress']);
      expect(report).toMatchObject({ completed: 2, failed: 0, lost: 0 });
      expect(await store.queue('s').countItems()).toMatchObject({ completed: 2, inProgress: 0 });
    } finally {
      blocker.release();
      await store.close();
    }
  });

  it('a completion whose lease was taken over while it waited to commit counts as lost, not completed', async () => {
    const pipeline = postgres.unique('slot-lost');
    const [store, other] = [postgres.store({ pipeline }), postgres.store({ pipeline })];
    const { schema } = postgres;
    const blocker = await postgres.pool.connect();
    try {
      const report = await store.queue('s').forEach(['a', 'b'], async (item) => {
        if (item === 'a') {
          await blocker.query('BEGIN');
          await blocker.query(
            `SELECT 1 FROM "${schema}".items WHERE key = 'a' AND step_id IN (
               SELECT s.id FROM "${schema}".steps s JOIN "${schema}".checkpoints c ON c.id = s.checkpoint_id WHERE c.pipeline = $1) FOR UPDATE`,
            [pipeline],
          );
          return;
        }
        // Meanwhile a's lease goes to the other worker (in the blocking session, which holds the row), which completes it.
        const token = randomUUID();
        await blocker.query(
          `UPDATE "${schema}".items SET lease_token = $2 WHERE key = 'a' AND step_id IN (
             SELECT s.id FROM "${schema}".steps s JOIN "${schema}".checkpoints c ON c.id = s.checkpoint_id WHERE c.pipeline = $1)`,
          [pipeline, token],
        );
        await blocker.query('COMMIT');
        await other.queue('s').complete('a', token);
      }, { concurrency: 1, batchSize: 2, pollMs: 10 });
      expect(report).toMatchObject({ completed: 1, failed: 0, lost: 1 });
      expect(await other.queue('s').countItems()).toMatchObject({ completed: 2, inProgress: 0 });
    } finally {
      blocker.release();
      await Promise.all([store.close(), other.close()]);
    }
  });
});

describe('tries of claimed items follow the runner: timeoutMs, backoff with jitter, lost leases', () => {
  it('timeoutMs ends a try that ignores its signal; the item is retried, then failed with a TimeoutError', async () => {
    const store = postgres.store();
    const signals: AbortSignal[] = [];
    const report = await store.queue('s').forEach(['stuck', 'quick'], (item, { signal }) => {
      if (item === 'quick') return Promise.resolve({ quick: true });
      signals.push(signal as AbortSignal);
      return forever();
    }, { timeoutMs: 100, retries: 1, backoff: { initialMs: 1 } });
    expect(report).toMatchObject({ completed: 1, failed: 1, lost: 0 });
    expect(signals).toHaveLength(2);
    for (const signal of signals) {
      expect(signal.aborted).toBe(true);
      expect((signal.reason as Error).name).toBe('TimeoutError');
    }
    const document = await store.read();
    expect(document?.steps['s']?.failedItems?.[0]).toMatchObject({ key: 'stuck', error: { name: 'TimeoutError', message: expect.stringContaining('timeoutMs (100 ms)') } });
    await store.close();
  });

  it('a retry waits a delay drawn with full jitter: random() × the cap', async () => {
    const store = postgres.store();
    const random = vi.spyOn(Math, 'random');
    try {
      // A cap of an hour: with random() at 0 the retries come at once, which no fixed backoff does.
      random.mockReturnValue(0);
      let tries = 0;
      const report = await store.queue('jitter-zero').forEach(['x'], async () => {
        if (++tries < 3) throw new Error(`try ${tries}`);
      }, { retries: 2, backoff: { initialMs: 3_600_000, maxMs: 3_600_000 } });
      expect(report).toMatchObject({ completed: 1, failed: 0 });
      expect(tries).toBe(3);

      // With random() at 0.5 and a cap of 400 ms, the retry waits at least 200 ms.
      random.mockReturnValue(0.5);
      const at: number[] = [];
      await store.queue('jitter-half').forEach(['x'], async () => {
        at.push(performance.now());
        if (at.length === 1) throw new Error('first try');
      }, { retries: 1, backoff: { initialMs: 400, factor: 1, maxMs: 400 } });
      expect(at).toHaveLength(2);
      // Timers may fire up to a millisecond early by performance.now().
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(199);
    } finally {
      random.mockRestore();
    }
    await store.close();
  }, 120_000);

  it('a try whose lease another worker took over settles at once, though the work ignores its signal', async () => {
    const pipeline = postgres.unique('lost');
    const [store, other] = [postgres.store({ pipeline }), postgres.store({ pipeline })];
    let started!: (signal: AbortSignal) => void;
    const running = new Promise<AbortSignal>((resolve) => (started = resolve));
    const run = store.queue('s').forEach(['x'], (_item, { signal }) => {
      started(signal as AbortSignal);
      return forever();
    }, { leaseMs: 60_000, heartbeatMs: 20, pollMs: 20 });
    const signal = await running;
    const [taken] = await postgres.takeOver(pipeline);
    await other.queue('s').complete('x', taken!.token);
    // The next heartbeat finds the lease gone: the try is abandoned, and with nothing left the run ends.
    const report = await run;
    expect(report).toMatchObject({ completed: 0, failed: 0, lost: 1 });
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(LeaseLostError);
    expect(await other.queue('s').countItems()).toEqual({ pending: 0, inProgress: 0, completed: 1, failed: 0, deadLetter: 0 });
    await Promise.all([store.close(), other.close()]);
  });

  it('a lost lease ends the backoff wait before a retry', async () => {
    const pipeline = postgres.unique('lost-waiting');
    const [store, other] = [postgres.store({ pipeline }), postgres.store({ pipeline })];
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    try {
      let tries = 0;
      let failed!: () => void;
      const waiting = new Promise<void>((resolve) => (failed = resolve));
      // The retry would come after most of an hour.
      const run = store.queue('s').forEach(['x'], async () => {
        tries++;
        failed();
        throw new Error('first try');
      }, { retries: 1, backoff: { initialMs: 3_600_000, maxMs: 3_600_000 }, leaseMs: 60_000, heartbeatMs: 20, pollMs: 20 });
      await waiting;
      const [taken] = await postgres.takeOver(pipeline);
      await other.queue('s').complete('x', taken!.token);
      expect(await run).toMatchObject({ completed: 0, failed: 0, lost: 1 });
      expect(tries).toBe(1);
    } finally {
      random.mockRestore();
    }
    await Promise.all([store.close(), other.close()]);
  }, 120_000);

  it('options are checked when forEach is called', async () => {
    const store = postgres.store();
    const queue = store.queue('s');
    const nothing = async (): Promise<void> => {};
    expect(() => queue.forEach([], nothing, { timeoutMs: 0 })).toThrow('Expected `timeoutMs` to be a number from 1 to 2147483647, got `0` (number)');
    expect(() => queue.forEach([], nothing, { retries: -1 })).toThrow('Expected `retries` to be a non-negative integer or Infinity, got `-1` (number)');
    expect(() => queue.forEach([], nothing, { backoff: { initalMs: 5 } } as never)).toThrow('Unknown option `backoff.initalMs` for forEach of a PostgresWorkQueue — did you mean `backoff.initialMs`?');
    expect(() => queue.forEach([], nothing, { leaseMS: 5 } as never)).toThrow('did you mean `leaseMs`?');
    expect(() => queue.forEach([], 'not a function' as never)).toThrow('Expected `fn` to be a function');
    await store.close();
  });
});
