/**
 * Items per second through one step: N worker processes sharing it through PostgresStore
 * (`store.queue(step).forEach`, claims in batches under leases), or one worker on a JsonFileStore doing the
 * same items and the same work. Used by the benchmark's scenario 9 and by
 * test/postgres/throughput.ts.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CheckpointManager, JsonFileStore } from '../../src/index.js';
import { ChildWorker } from './processes.js';

export interface ThroughputRun {
  /** Items in the step (`item-0` … `item-<n-1>`). */
  items: number;
  /** How long each item's work takes: 0 measures the checkpoint alone, a few ms is I/O-bound work. */
  workMs: number;
  /** Items in flight at once in each worker. */
  concurrency: number;
}

const STEP = 'enrich';
const WORKER = fileURLToPath(new URL('../postgres/claim-worker.ts', import.meta.url));

/**
 * Items/s of `workers` processes sharing one step in a fresh schema of the server at `url`, timed
 * from the moment all of them have started (process start-up is not counted) until every item is
 * completed and the first worker to see that has closed its store. Throws if a worker fails or
 * the workers did not complete every item between them.
 */
export async function postgresItemsPerSecond(url: string, workers: number, run: ThroughputRun): Promise<number> {
  // claim-worker.ts reads the URL from its environment, which children inherit.
  process.env['CHECKPOINTER_TEST_PG_URL'] = url;
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const config = { schema, pipeline: 'bench', step: STEP, count: run.items, leaseMs: 30_000, concurrency: run.concurrency, workMs: run.workMs, record: false, waitForGo: true };
  const children = Array.from({ length: workers }, (_, worker) => new ChildWorker(WORKER, [JSON.stringify({ ...config, worker })]));
  let failing = false;
  try {
    await Promise.all(children.map((child) => child.waitForLine((line) => line === 'ready')));
    const started = performance.now();
    for (const child of children) child.process.stdin!.write('go\n');
    const finishing = children.map((child) => child.waitForLine((line) => line.startsWith('finished ')));
    // A worker finishes once no item of the step is pending or held by anyone, so the first one
    // to finish marks the moment every item is done. The others may still sleep out one poll
    // interval (up to a second) before they look again, which is latency, not throughput.
    await Promise.race(finishing);
    const seconds = (performance.now() - started) / 1000;
    const finished = await Promise.all(finishing);
    const completed = finished.reduce((sum, line) => sum + (JSON.parse(line.slice('finished '.length)) as { completed: number }).completed, 0);
    if (completed !== run.items) {
      throw new Error(`${workers} PostgresStore workers completed ${completed} of ${run.items} items (schema ${schema}); the figure would be wrong`);
    }
    const exits = await Promise.all(children.map((child) => child.exited));
    const failed = exits.findIndex((exit) => exit.code !== 0);
    if (failed !== -1) throw new Error(`PostgresStore worker ${failed} exited with ${JSON.stringify(exits[failed])}:\n${children[failed]!.stderr}`);
    return run.items / seconds;
  } catch (error) {
    failing = true;
    throw error;
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    // When the server is gone the drop fails too; the workers' error says more, so it wins.
    await dropSchema(url, schema).catch((error: unknown) => {
      if (!failing) throw error;
    });
  }
}

/** The server's version (`PostgreSQL 18.1 …`); also the check that it can be reached at all. */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    return rows[0]!.version;
  } catch (error) {
    throw new Error(`Cannot reach PostgreSQL at ${redacted(url)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, fit for a log. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Items/s of one worker on a JsonFileStore in `directory` ('normal' durability), in this process:
 * `concurrency` loops mark each item in progress, do the work and mark it completed with the same
 * result the PostgreSQL workers record. Timed from open to close, as the workers' runs are.
 */
export async function jsonFileItemsPerSecond(directory: string, run: ThroughputRun): Promise<number> {
  const items = Array.from({ length: run.items }, (_, i) => `item-${i}`);
  const started = performance.now();
  const cp = await CheckpointManager.open({ store: new JsonFileStore(join(directory, 'checkpoint.json')), pipeline: 'bench' });
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await cp.markItemInProgress(STEP, item);
      if (run.workMs > 0) await new Promise((resolve) => setTimeout(resolve, run.workMs));
      await cp.markItemCompleted(STEP, item, { by: 0 });
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, lane));
  await cp.close();
  return run.items / ((performance.now() - started) / 1000);
}
