import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LeaseLostError, PostgresStore } from '../../src/postgres.js';

const url = inject('pgUrl');
const schema = `cp_${randomUUID().slice(0, 8)}`;
const pool = new pg.Pool({ connectionString: url, max: 8 });
pool.on('error', () => {});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Two workers of one checkpoint: separate store instances, each with its own connections. */
function twoWorkers(): [PostgresStore, PostgresStore] {
  const pipeline = `claims-${randomUUID()}`;
  return [new PostgresStore({ connectionString: url, schema, pipeline }), new PostgresStore({ connectionString: url, schema, pipeline })];
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('claims', () => {
  it('registering is idempotent and claims hand out disjoint batches in input order', async () => {
    const [a, b] = twoWorkers();
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    expect(await a.queue('s').registerItems(keys)).toBe(30);
    expect(await b.queue('s').registerItems([...keys, 'k30'])).toBe(1);
    const [first, second] = await Promise.all([a.queue('s').claim({ batchSize: 20 }), b.queue('s').claim({ batchSize: 20 })]);
    const all = [...first.items, ...second.items].map((item) => item.key);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(31);
    expect(first.items.every((item) => item.attempts === 1)).toBe(true);
    expect(first.token).not.toBe(second.token);
    const smaller = first.items.length <= second.items.length ? first : second;
    expect(smaller.items.length).toBe(11);
    expect((await a.queue('s').claim()).items).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('fencing: a worker whose lease expired and was re-claimed cannot complete or fail the item', async () => {
    const [a, b] = twoWorkers();
    await a.queue('s').registerItems(['x']);
    const late = await a.queue('s').claim({ leaseMs: 300 });
    await sleep(600);
    const current = await b.queue('s').claim({ leaseMs: 30_000 });
    expect(current.items).toEqual([{ key: 'x', attempts: 2 }]);
    let ranInside = false;
    const refused = await rejection(a.queue('s').complete('x', late.token, { result: 'late', inTransaction: async () => { ranInside = true; } }));
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect((refused as LeaseLostError).code).toBe('CHECKPOINT_LOCK_LOST');
    expect(String(refused)).toContain('"x"');
    expect(ranInside).toBe(false);
    expect(await rejection(a.queue('s').fail('x', late.token, { message: 'late failure' }))).toBeInstanceOf(LeaseLostError);
    expect(await a.queue('s').extendLease(late.token, ['x'], 1000)).toEqual([]);
    await b.queue('s').complete('x', current.token, { result: 'on time' });
    // The same completion again (a retry whose reply was lost) is harmless.
    await b.queue('s').complete('x', current.token, { result: 'on time' });
    expect(await rejection(a.queue('s').complete('x', late.token))).toBeInstanceOf(LeaseLostError);
    expect(await b.queue('s').countItems()).toEqual({ pending: 0, inProgress: 0, completed: 1, failed: 0, deadLetter: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it('an expired lease that nobody re-claimed can still be completed by its holder', async () => {
    const [a] = twoWorkers();
    await a.queue('s').registerItems(['x']);
    const lease = await a.queue('s').claim({ leaseMs: 100 });
    await sleep(250);
    await a.queue('s').complete('x', lease.token);
    expect((await a.queue('s').countItems()).completed).toBe(1);
    await a.close();
  });

  it('a heartbeat keeps the items; release hands them back without counting an attempt', async () => {
    const [a, b] = twoWorkers();
    await a.queue('s').registerItems(['x', 'y']);
    const lease = await a.queue('s').claim({ leaseMs: 400 });
    for (let beat = 0; beat < 6; beat++) {
      await sleep(150);
      expect(await a.queue('s').extendLease(lease.token, ['x', 'y'], 400)).toHaveLength(2);
      expect((await b.queue('s').claim()).items).toEqual([]);
    }
    expect(await a.queue('s').release(lease.token, ['x', 'y'])).toBe(2);
    const again = await b.queue('s').claim();
    expect(again.items.map((item) => item.key).sort()).toEqual(['x', 'y']);
    expect(again.items.map((item) => item.attempts)).toEqual([1, 1]);
    await Promise.all([a.close(), b.close()]);
  });

  it('fail records the error and makes a dead letter after maxAttempts; retryFailed claims failed items again', async () => {
    const [a] = twoWorkers();
    await a.queue('s').registerItems(['x']);
    let lease = await a.queue('s').claim();
    await a.queue('s').fail('x', lease.token, { message: 'first', name: 'TypeError' }, { maxAttempts: 2 });
    expect((await a.queue('s').claim()).items).toEqual([]);
    lease = await a.queue('s').claim({ retryFailed: true });
    expect(lease.items).toEqual([{ key: 'x', attempts: 2 }]);
    await a.queue('s').fail('x', lease.token, { message: 'second' }, { maxAttempts: 2 });
    expect(await a.queue('s').countItems()).toEqual({ pending: 0, inProgress: 0, completed: 0, failed: 0, deadLetter: 1 });
    expect((await a.queue('s').claim({ retryFailed: true })).items).toEqual([]);
    await a.close();
  });
});

describe('runStageOnce', () => {
  it('exactly one of several workers runs a stage; the others wait and get its result', async () => {
    const pipeline = `stage-${randomUUID()}`;
    const stores = [0, 1, 2, 3].map(() => new PostgresStore({ connectionString: url, schema, pipeline }));
    let runs = 0;
    const outcomes = await Promise.all(
      stores.map((store) =>
        store.runStageOnce('download', async () => {
          runs++;
          await sleep(300);
          return { frames: 10 };
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(outcomes.filter((outcome) => outcome.ran)).toHaveLength(1);
    expect(outcomes.map((outcome) => outcome.result)).toEqual([{ frames: 10 }, { frames: 10 }, { frames: 10 }, { frames: 10 }]);
    expect(outcomes.every((outcome) => outcome.completed)).toBe(true);
    // Later callers do not run it either.
    expect(await stores[0]!.runStageOnce('download', async () => ({ frames: -1 }))).toEqual({ ran: false, completed: true, result: { frames: 10 } });
    await Promise.all(stores.map((store) => store.close()));
  });

  it('with wait: false the others skip while it runs; a failed stage is run again by the next worker', async () => {
    const pipeline = `stage-${randomUUID()}`;
    const [a, b] = [0, 1].map(() => new PostgresStore({ connectionString: url, schema, pipeline })) as [PostgresStore, PostgresStore];
    let release!: () => void;
    const running = a.runStageOnce('train', () => new Promise<string>((resolve) => { release = () => resolve('model-1'); }));
    await sleep(200);
    expect(await b.runStageOnce('train', async () => 'never', { wait: false })).toEqual({ ran: false, completed: false, result: undefined });
    release();
    expect(await running).toEqual({ ran: true, completed: true, result: 'model-1' });

    await expect(a.runStageOnce('flaky', async () => { throw new Error('stage failed'); })).rejects.toThrow('stage failed');
    expect(await b.runStageOnce('flaky', async () => 'second try')).toEqual({ ran: true, completed: true, result: 'second try' });
    await Promise.all([a.close(), b.close()]);
  });
});

describe("a work queue's forEach in one worker", () => {
  it('retries an item in the worker, then marks it failed; results are kept', async () => {
    const [store] = twoWorkers();
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

  it('an aborted signal stops claiming and hands back the items not started', async () => {
    const [store, other] = twoWorkers();
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
