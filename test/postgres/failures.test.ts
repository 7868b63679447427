import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { PostgresStore } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';

const { url, schema, pool: admin, namedPool } = usePostgres();

async function terminate(name: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [name],
  );
  return rows[0]!.n;
}

describe('a connection dropped mid-run (pg_terminate_backend)', () => {
  it("a work queue's forEach retries and still completes every item exactly once", async () => {
    const { pool, name } = namedPool();
    const pipeline = `terminate-${randomUUID()}`;
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const completions = `"${schema}"."completions_${randomUUID().slice(0, 8)}"`;
    await admin.query(`CREATE TABLE ${completions} (key text NOT NULL)`);
    const store = new PostgresStore({ pool, schema, pipeline, retry: { initialMs: 20 } });
    const items = Array.from({ length: 1500 }, (_, i) => `item-${i}`);
    let done = 0;
    let terminated = 0;
    const run = store.queue('enrich').forEach(items, async () => {
      done++;
    }, {
      concurrency: 6,
      leaseMs: 2000,
      completeWith: async (client, item) => {
        await client.query(`INSERT INTO ${completions} (key) VALUES ($1)`, [item]);
      },
    });
    // Terminate every connection of the store three times while it works.
    for (const after of [200, 600, 1000]) {
      while (done < after) await new Promise((resolve) => setTimeout(resolve, 5));
      terminated += await terminate(name);
    }
    const report = await run;
    expect(terminated).toBeGreaterThan(0);
    // Items whose completion was cut off were claimed again after their lease ran out, by this worker.
    expect(report.completed + report.lost).toBeGreaterThanOrEqual(items.length);
    const { rows } = await admin.query<{ total: number; distinct: number }>(
      `SELECT count(*)::int AS total, count(DISTINCT key)::int AS distinct FROM ${completions}`,
    );
    expect(rows[0]).toEqual({ total: items.length, distinct: items.length });
    expect((await store.queue('enrich').countItems()).completed).toBe(items.length);
    await store.close();
  });

  it('acknowledged marks of a CheckpointManager all survive', async () => {
    const { pool, name } = namedPool();
    const pipeline = `terminate-marks-${randomUUID()}`;
    const options = { pipeline: 'marks' };
    let cp = await CheckpointManager.open({ ...options, store: new PostgresStore({ pool, schema, pipeline, retry: { initialMs: 20 } }) });
    let terminated = 0;
    for (let start = 0; start < 3000; start += 100) {
      if (start % 1000 === 500) terminated += await terminate(name);
      await Promise.all(Array.from({ length: 100 }, (_, i) => cp.markItemCompleted('s', `item-${start + i}`)));
    }
    await cp.increment('cost', 2);
    terminated += await terminate(name);
    await cp.setContext({ after: 'terminate' });
    expect(terminated).toBeGreaterThan(0);
    await cp.close();
    cp = await CheckpointManager.open({ ...options, store: new PostgresStore({ pool, schema, pipeline }) });
    expect(cp.getProgressSummary().steps['s']?.completed).toBe(3000);
    expect(cp.getCounter('cost')).toBe(2);
    expect(cp.context).toEqual({ after: 'terminate' });
    await cp.close();
  });
});

describe('a bad connection string', () => {
  const secret = 'Sup3r-Secret-Pa55word';
  const port = new URL(url).port;

  async function openError(connectionString: string): Promise<Error & { code?: string }> {
    const store = new PostgresStore({ connectionString, pipeline: 'p', retry: { retries: 1, initialMs: 10 } });
    expect(store.location).not.toContain(secret);
    try {
      await CheckpointManager.open({ store });
    } catch (error) {
      return error as Error & { code?: string };
    }
    throw new Error('expected open to fail');
  }

  function expectNoSecret(error: Error): void {
    const everything = [String(error), error.stack ?? '', inspect(error, { depth: 10 }), JSON.stringify(error)].join('\n');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(encodeURIComponent(secret));
  }

  it('a wrong password: a clear store error that does not contain the password', async () => {
    const error = await openError(`postgres://postgres:${secret}@127.0.0.1:${port}/checkpointer_test`);
    expect(error.code).toBe('CHECKPOINT_STORE');
    expect(error.message).toMatch(/password authentication failed/);
    expect(error.message).toContain('postgres@127.0.0.1');
    expect(error.message).toContain('check the connection string');
    expectNoSecret(error);
  });

  it('an unparsable URL: the error does not echo it', async () => {
    const error = await openError(`postgres://postgres:${secret}@127.0.0.1:not-a-port/db`);
    expect(error.code).toBe('CHECKPOINT_STORE');
    expectNoSecret(error);
  });

  it('a database that does not exist: the error names it, not the password', async () => {
    const real = new URL(url);
    real.pathname = '/no_such_database';
    const error = await openError(real.toString().replace(`:${real.password}@`, `:${secret}@`));
    expect(error.code).toBe('CHECKPOINT_STORE');
    expectNoSecret(error);
  });

  it('options are checked up front', () => {
    expect(() => new PostgresStore({ pipeline: 'p' })).toThrow('Expected exactly one of `connectionString` and `pool`');
    expect(() => new PostgresStore({ connectionString: url, pipeline: '' })).toThrow('Expected `pipeline` to be a non-empty string');
    expect(() => new PostgresStore({ connectionString: url, pipeline: 'p', schema: 'x; DROP TABLE y' })).toThrow('Expected `schema` to be a PostgreSQL identifier');
    expect(() => new PostgresStore({ connectionString: url, pipeline: 'p', batchSize: 0 })).toThrow('Expected `batchSize` to be a positive integer, got `0` (number)');
  });
});
