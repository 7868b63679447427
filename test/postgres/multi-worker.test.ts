import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';
import { ChildWorker } from '../support/processes.js';

const { url, schema, pool } = usePostgres();
const WORKER = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));

beforeAll(async () => {
  // The children read the URL from the environment (each test file runs in its own worker).
  process.env['CHECKPOINTER_TEST_PG_URL'] = url;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(`CREATE TABLE "${schema}".completions (key text NOT NULL, worker int NOT NULL)`);
});

function spawnWorker(config: Record<string, unknown>): ChildWorker {
  return new ChildWorker(WORKER, [JSON.stringify({ schema, step: 'enrich', concurrency: 8, ...config })]);
}

async function completionsOf(pipelinePrefix: string): Promise<{ total: number; distinct: number; twice: number }> {
  const { rows } = await pool.query<{ total: number; distinct: number; twice: number }>(
    `SELECT count(*)::int AS total, count(DISTINCT key)::int AS distinct,
            (SELECT count(*)::int FROM (SELECT key FROM "${schema}".completions WHERE key LIKE $1 GROUP BY key HAVING count(*) > 1) d) AS twice
     FROM "${schema}".completions WHERE key LIKE $1`,
    [`${pipelinePrefix}%`],
  );
  return rows[0]!;
}

describe('many workers share one step', () => {
  it('4 workers over 10,000 items, 2 of them SIGKILLed mid-run: every item completed exactly once', async () => {
    await pool.query(`TRUNCATE "${schema}".completions`);
    const pipeline = `workers-${randomUUID()}`;
    const count = 10_000;
    const workers = [0, 1, 2, 3].map((worker) => spawnWorker({ pipeline, count, worker, leaseMs: 1000, workMs: 0 }));
    // Kill two workers at different points of the run, while they hold claimed items.
    const victims = [
      { worker: workers[0]!, after: 600 },
      { worker: workers[1]!, after: 1500 },
    ];
    const kills = victims.map(({ worker, after }) =>
      worker.waitForLine((line) => line.startsWith('progress ') && Number(line.slice(9)) >= after).then(() => worker.kill()),
    );
    const exits = await Promise.all([...kills, workers[2]!.exited, workers[3]!.exited]);
    expect(exits[0]?.signal).toBe('SIGKILL');
    expect(exits[1]?.signal).toBe('SIGKILL');
    expect(exits.slice(2).map((exit) => exit.code)).toEqual([0, 0]);

    const completions = await completionsOf('item-');
    expect(completions).toEqual({ total: count, distinct: count, twice: 0 });
    const store = new PostgresStore({ pool, schema, pipeline });
    expect(await store.queue('enrich').countItems()).toEqual({ pending: 0, inProgress: 0, completed: count, failed: 0, deadLetter: 0 });
    // The survivors finished what the killed workers had claimed.
    const reports = [workers[2]!, workers[3]!].map((worker) => JSON.parse(worker.lines.find((line) => line.startsWith('finished '))!.slice(9)) as { completed: number });
    const byKilled = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".completions WHERE worker IN (0, 1)`);
    expect(reports[0]!.completed + reports[1]!.completed + byKilled.rows[0]!.n).toBe(count);
    await store.close();
  });

  it("lease expiry hands a killed worker's items to another worker within leaseMs + heartbeat", async () => {
    const pipeline = `expiry-${randomUUID()}`;
    const leaseMs = 1000;
    const heartbeatMs = Math.floor(leaseMs / 3);
    // This worker starts items and hangs on them: they stay claimed until its lease runs out.
    const hung = spawnWorker({ pipeline, count: 20, worker: 9, leaseMs, workMs: -1, concurrency: 4, traceStarts: true });
    await hung.waitForLine((line) => line.startsWith('started '));
    await hung.kill();
    const killedAt = performance.now();
    const held = hung.lines.filter((line) => line.startsWith('started ')).map((line) => line.slice(8));
    expect(held.length).toBeGreaterThan(0);

    const store = new PostgresStore({ pool, schema, pipeline });
    const reclaimedAt = new Map<string, number>();
    const items = Array.from({ length: 20 }, (_, i) => `item-${i}`);
    const report = await store.queue('enrich').forEach(items, async (item) => {
      reclaimedAt.set(item, performance.now() - killedAt);
    }, { leaseMs, pollMs: 50 });
    expect(report.completed).toBe(20);
    const delays = held.map((key) => reclaimedAt.get(key)!);
    // Lease expiry is the only way these items came back: not before the last heartbeat's lease ran out…
    expect(Math.min(...delays)).toBeGreaterThan(leaseMs - heartbeatMs - 100);
    // …and soon after it (generous slack for a busy machine).
    expect(Math.max(...delays)).toBeLessThan(leaseMs + heartbeatMs + 2500);
    await store.close();
  });
});
