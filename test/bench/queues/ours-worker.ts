/**
 * Scenario 11's worker for checkpointer: `store.queue(step).forEach` through PostgresStore,
 * configured as docs/postgres.md recommends for many quick items — claims of 500, as many as
 * graphile-worker's local queue holds in its worker — with the default 30 s lease. Runs on the library's Node through tsx. Protocol: see worker-io.ts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../../src/postgres.js';
import { config, countQueries, heard, reporter, stopped, work } from './worker-io.js';

const settings = config();
/** Items claimed at once: graphile-worker's `localQueue.size` in its worker. */
const CLAIM_SIZE = 500;
// The `pg` the library itself resolves (the repository's), not the bench package's copy.
const pg = createRequire(fileURLToPath(new URL('../../../src/postgres.ts', import.meta.url)))('pg') as Parameters<typeof countQueries>[0];
const queries = countQueries(pg);
const done = reporter();
const store = new PostgresStore({ connectionString: settings.url, schema: settings.schema, pipeline: 'bench' });
const items = Array.from({ length: settings.items }, (_, i) => `item-${i}`);
// As the peers' jobs are added before the go, the items are registered before it; forEach's own
// registration then finds the same list registered in full (one statement).
await store.queue('enrich').registerItems(items);
process.stdout.write('ready\n');
await heard('go');
await store.queue('enrich').forEach(
  items,
  async (item) => {
    await work(settings.workMs);
    done(Number(item.slice('item-'.length)));
  },
  { concurrency: settings.concurrency, batchSize: CLAIM_SIZE, leaseMs: 30_000 },
);
await store.close();
stopped(queries());
