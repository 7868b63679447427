/**
 * A worker process for the multi-worker tests: runs a work queue's forEach over `count` items of one
 * step and records each completion, inside the completing transaction, in the test's own
 * `completions` table. Reports on stdout: `ready`, `started <key>`, `progress <n>`, `finished <report>`.
 *
 * Usage: claim-worker.ts <json config>; the database URL comes from CHECKPOINTER_TEST_PG_URL.
 */
import { PostgresStore } from '../../src/postgres.js';

interface WorkerConfig {
  schema: string;
  pipeline: string;
  step: string;
  count: number;
  worker: number;
  leaseMs: number;
  concurrency: number;
  /** Milliseconds each item takes; -1: never finishes (a worker that hangs until killed). */
  workMs: number;
  /** Print `started <key>` for every item started. */
  traceStarts?: boolean;
  /** Record completions in the `completions` table (default true). */
  record?: boolean;
  /** Wait for a line on stdin before starting, so that a benchmark can start all workers at once. */
  waitForGo?: boolean;
}

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const url = process.env['CHECKPOINTER_TEST_PG_URL'];
if (!url) throw new Error('CHECKPOINTER_TEST_PG_URL is not set');

const store = new PostgresStore({ connectionString: url, schema: config.schema, pipeline: config.pipeline });
const items = Array.from({ length: config.count }, (_, i) => `item-${i}`);
let completed = 0;
process.stdout.write('ready\n');
if (config.waitForGo) {
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy();
}
const report = await store.queue(config.step).forEach(items,
  async (item) => {
    if (config.traceStarts) process.stdout.write(`started ${item}\n`);
    if (config.workMs < 0) await new Promise(() => {});
    else if (config.workMs > 0) await new Promise((resolve) => setTimeout(resolve, config.workMs));
    return { by: config.worker };
  },
  {
    concurrency: config.concurrency,
    batchSize: config.concurrency * 2,
    leaseMs: config.leaseMs,
    completeWith: config.record === false ? undefined : async (client, item) => {
      await client.query(`INSERT INTO "${config.schema}".completions (key, worker) VALUES ($1, $2)`, [item, config.worker]);
      if (++completed % 50 === 0) process.stdout.write(`progress ${completed}\n`);
    },
  },
);
await store.close();
process.stdout.write(`finished ${JSON.stringify(report)}\n`);
