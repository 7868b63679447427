/**
 * Items per second through PostgresStore with 1, 2 and 4 worker processes sharing one step,
 * against one worker on a JsonFileStore, measured in the same run:
 *
 *   npx tsx test/postgres/throughput.ts [items] [workMs]
 *
 * Uses CHECKPOINTER_PG_URL when set, else starts an embedded PostgreSQL. `workMs` is how long
 * each item's work takes (0: pure checkpoint overhead; a few ms: I/O-bound work, where more
 * workers help).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointManager, JsonFileStore } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';
import { startPostgres } from '../support/postgres.js';

const count = Number(process.argv[2] ?? 5000);
const workMs = Number(process.argv[3] ?? 0);
const concurrency = 8;
const WORKER = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));

async function postgresRun(url: string, workers: number): Promise<number> {
  process.env['CHECKPOINTER_TEST_PG_URL'] = url;
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const config = { schema, pipeline: 'bench', step: 'enrich', count, leaseMs: 30_000, concurrency, workMs, record: false, waitForGo: true };
  const children = Array.from({ length: workers }, (_, worker) => new ChildWorker(WORKER, [JSON.stringify({ ...config, worker })]));
  await Promise.all(children.map((child) => child.waitForLine((line) => line === 'ready', 60_000)));
  const started = performance.now();
  for (const child of children) child.process.stdin!.write('go\n');
  await Promise.all(children.map((child) => child.waitForLine((line) => line.startsWith('finished '), 600_000)));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(children.map((child) => child.exited));
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  return count / seconds;
}

async function jsonRun(): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-bench-'));
  try {
    const cp = await CheckpointManager.open({ store: new JsonFileStore(join(directory, 'checkpoint.json')) });
    const items = Array.from({ length: count }, (_, i) => `item-${i}`);
    const started = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++]!;
        await cp.markItemInProgress('enrich', item);
        if (workMs > 0) await new Promise((resolve) => setTimeout(resolve, workMs));
        await cp.markItemCompleted('enrich', item, { by: 0 });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const seconds = (performance.now() - started) / 1000;
    await cp.close();
    return count / seconds;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const server = await startPostgres();
try {
  const rows: [string, number][] = [['JsonFileStore, 1 worker', await jsonRun()]];
  for (const workers of [1, 2, 4]) rows.push([`PostgresStore, ${workers} worker${workers > 1 ? 's' : ''}`, await postgresRun(server.url, workers)]);
  console.log(`${count} items, ${workMs} ms of work each, concurrency ${concurrency} per worker`);
  for (const [name, rate] of rows) console.log(`${name.padEnd(26)} ${Math.round(rate).toString().padStart(7)} items/s`);
} finally {
  await server.stop();
}
