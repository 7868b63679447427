import { statusAfterFailure } from '../../src/core/item-rules.js';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { LeaseLostError, type PostgresStore } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';

const postgres = usePostgres();

/** Two workers of one checkpoint: separate store instances, each with its own connections. */
function twoWorkers(): { pipeline: string; a: PostgresStore; b: PostgresStore } {
  const pipeline = postgres.unique('claims');
  return { pipeline, a: postgres.store({ pipeline }), b: postgres.store({ pipeline }) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('a work queue (store.queue(step))', () => {
  it('registering is idempotent and claims hand out disjoint batches in input order', async () => {
    const { a, b } = twoWorkers();
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    expect(await a.queue('s').registerItems(keys)).toBe(30);
    expect(await b.queue('s').registerItems([...keys, 'k30'])).toBe(1);
    const [first, second] = await Promise.all([a.queue('s').claim({ batchSize: 20 }), b.queue('s').claim({ batchSize: 20 })]);
    const all = [...first.items, ...second.items].map((item) => item.key);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(31);
    expect(first.items.every((item) => item.attempts === 1)).toBe(true);
    expect(first.token).not.toBe(second.token);
    // Concurrent claims skip each other's locked rows, so the split between them varies; each
    // takes at most its batch, in input order.
    for (const claimed of [first, second]) {
      expect(claimed.items.length).toBeLessThanOrEqual(20);
      const order = claimed.items.map((item) => Number(item.key.slice(1)));
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    expect((await a.queue('s').claim()).items).toEqual([]);
    // Steps are separate queues.
    expect(await a.queue('other').registerItems(['k0'])).toBe(1);
    expect(await a.queue('other').countItems()).toEqual({ pending: 1, inProgress: 0, completed: 0, failed: 0, deadLetter: 0 });
    await Promise.all([a.close(), b.close()]);
  });

  it('a list of keys registered in full is not inserted again; another list, or the same after its step was reset, is', async () => {
    const { pipeline, a } = twoWorkers();
    // Worker b's statements are counted.
    const inserts: string[] = [];
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
        if (/INSERT INTO\s+\S+\.(?:"items"|items)/.test(text)) inserts.push(text);
        return query(...args);
      };
    });
    const b = postgres.store({ pipeline, pool });
    const keys = ['x', 'y', 'z'];
    expect(await a.queue('s').registerItems(keys)).toBe(3);
    expect(await b.queue('s').registerItems(keys)).toBe(0);
    expect(inserts).toEqual([]);
    // The fingerprint is of the whole list: one key more is another list, and its new key is added.
    expect(await b.queue('s').registerItems([...keys, 'w'])).toBe(1);
    expect(inserts).toHaveLength(1);
    expect(await a.queue('s').registerItems(keys)).toBe(0);
    expect(await a.queue('s').countItems()).toMatchObject({ pending: 4 });
    // Resetting the step deletes its items, and the fingerprint with them: the next registration adds them all again.
    const manager = await CheckpointManager.open({ store: postgres.store({ pipeline }) });
    await manager.resetStep('s');
    await manager.close();
    expect(await a.queue('s').countItems()).toMatchObject({ pending: 0 });
    expect(await b.queue('s').registerItems(keys)).toBe(3);
    expect(await a.queue('s').countItems()).toMatchObject({ pending: 3 });
    await Promise.all([a.close(), b.close()]);
    await pool.end();
  });

  it('fencing: a worker whose lease expired and was re-claimed cannot complete or fail the item', async () => {
    const { pipeline, a, b } = twoWorkers();
    await a.queue('s').registerItems(['x']);
    const late = await a.queue('s').claim({ leaseMs: 60_000 });
    expect(await postgres.expireLeases(pipeline)).toBe(1);
    const current = await b.queue('s').claim({ leaseMs: 60_000 });
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
    const { pipeline, a } = twoWorkers();
    await a.queue('s').registerItems(['x']);
    const lease = await a.queue('s').claim({ leaseMs: 60_000 });
    expect(await postgres.expireLeases(pipeline)).toBe(1);
    await a.queue('s').complete('x', lease.token);
    expect((await a.queue('s').countItems()).completed).toBe(1);
    await a.close();
  });

  it('extending a lease keeps the items; release hands them back without counting an attempt', async () => {
    const { pipeline, a, b } = twoWorkers();
    await a.queue('s').registerItems(['x', 'y']);
    const lease = await a.queue('s').claim({ leaseMs: 60_000 });
    expect(await postgres.expireLeases(pipeline)).toBe(2);
    // A heartbeat that comes late, before anyone re-claimed the items, still keeps them.
    expect((await a.queue('s').extendLease(lease.token, ['x', 'y'], 60_000)).sort()).toEqual(['x', 'y']);
    expect((await b.queue('s').claim()).items).toEqual([]);
    expect(await a.queue('s').release(lease.token, ['x', 'y'])).toBe(2);
    const again = await b.queue('s').claim();
    expect(again.items.map((item) => item.key).sort()).toEqual(['x', 'y']);
    expect(again.items.map((item) => item.attempts)).toEqual([1, 1]);
    expect(await b.queue('s').hasUnfinishedItems()).toBe(true);
    await b.queue('s').completeMany(again.items.map(({ key }) => ({ key, token: again.token })));
    expect(await b.queue('s').hasUnfinishedItems()).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it('fail records the error and makes a dead letter after maxAttempts; retryFailed claims failed items again', async () => {
    const { a } = twoWorkers();
    await a.queue('s').registerItems(['x']);
    let lease = await a.queue('s').claim();
    await a.queue('s').fail('x', lease.token, { message: 'first', name: 'TypeError' }, { maxAttempts: 2 });
    // The SQL decides as the core rule does, at each attempt.
    expect(statusAfterFailure(1, 2)).toBe('failed');
    expect((await a.queue('s').countItems()).failed).toBe(1);
    expect((await a.queue('s').claim()).items).toEqual([]);
    lease = await a.queue('s').claim({ retryFailed: true });
    expect(lease.items).toEqual([{ key: 'x', attempts: 2 }]);
    await a.queue('s').fail('x', lease.token, { message: 'second' }, { maxAttempts: 2 });
    expect(statusAfterFailure(2, 2)).toBe('dead_letter');
    expect(await a.queue('s').countItems()).toEqual({ pending: 0, inProgress: 0, completed: 0, failed: 0, deadLetter: 1 });
    expect((await a.queue('s').claim({ retryFailed: true })).items).toEqual([]);
    await a.close();
  });

  it('bad arguments are refused up front with the option named', async () => {
    const { a } = twoWorkers();
    expect(() => a.queue('')).toThrow('Expected `step` to be a non-empty string');
    await expect(a.queue('s').claim({ batchSize: 0 })).rejects.toThrow('Expected `batchSize` to be a positive integer, got `0` (number)');
    await expect(a.queue('s').extendLease('t', ['x'], -1)).rejects.toThrow('Expected `leaseMs` to be an integer from 1 to 2147483647, got `-1` (number)');
    await expect(a.queue('s').claim({ leasMs: 5 } as never)).rejects.toThrow('Unknown option `leasMs` for claim — did you mean `leaseMs`?');
    await a.close();
  });
});
