/**
 * Items per second through PostgresStore with 1, 2 and 4 worker processes sharing one step,
 * against one worker on a JsonFileStore, measured once each in the same run:
 *
 *   npx tsx test/postgres/throughput.ts [items] [workMs]
 *
 * Uses CHECKPOINTER_PG_URL when set, else starts an embedded PostgreSQL. `workMs` is how long
 * each item's work takes (0: pure checkpoint overhead; a few ms: I/O-bound work, where more
 * workers help). `npm run bench -- --only 9` measures the same with repetitions and medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonFileItemsPerSecond, postgresItemsPerSecond, type ThroughputRun } from '../support/postgres-throughput.js';
import { startPostgres } from '../support/postgres.js';

const run: ThroughputRun = { items: Number(process.argv[2] ?? 5000), workMs: Number(process.argv[3] ?? 0), concurrency: 8 };

const server = await startPostgres();
const directory = mkdtempSync(join(tmpdir(), 'checkpointer-throughput-'));
try {
  const rows: [string, number][] = [['JsonFileStore, 1 worker', await jsonFileItemsPerSecond(directory, run)]];
  for (const workers of [1, 2, 4]) rows.push([`PostgresStore, ${workers} worker${workers > 1 ? 's' : ''}`, await postgresItemsPerSecond(server.url, workers, run)]);
  console.log(`${run.items} items, ${run.workMs} ms of work each, concurrency ${run.concurrency} per worker`);
  for (const [name, rate] of rows) console.log(`${name.padEnd(26)} ${Math.round(rate).toString().padStart(7)} items/s`);
} finally {
  rmSync(directory, { recursive: true, force: true });
  await server.stop();
}
