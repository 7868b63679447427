/**
 * Scenario 11's worker for pg-boss: jobs inserted in batches with `insert`, a worker fetching
 * `batchSize` jobs at a time (as many as the concurrency) and fetching again at once while
 * batches come back full (`burstWhenBatchFull`), completing each batch in one statement. No
 * supervision or scheduling in the workers (the setup run creates the queue). Runs on Node 22
 * (pg-boss needs >= 22.12). Protocol: see worker-io.ts.
 */
import { createRequire } from 'node:module';
import { config, countQueries, heard, reporter, stopped, work } from './worker-io.ts';

const require = createRequire(import.meta.url);
const queries = countQueries(require('pg'));
const { PgBoss } = await import('pg-boss');
const settings = config();
const QUEUE = 'items';

if (settings.role === 'setup') {
  const boss = new PgBoss({ connectionString: settings.url, schema: settings.schema });
  boss.on('error', (error) => console.error(error));
  await boss.start();
  await boss.createQueue(QUEUE);
  for (let i = 0; i < settings.items; i += 1000) {
    await boss.insert(QUEUE, Array.from({ length: Math.min(1000, settings.items - i) }, (_, j) => ({ data: { i: i + j } })));
  }
  await boss.stop({ graceful: false, wait: true });
  stopped(queries());
}

const boss = new PgBoss({ connectionString: settings.url, schema: settings.schema, supervise: false, schedule: false, migrate: false });
boss.on('error', (error) => console.error(error));
await boss.start();
const done = reporter();
process.stdout.write('ready\n');
await heard('go');
await boss.work(QUEUE, { batchSize: settings.concurrency, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, async (jobs) => {
  await Promise.all(jobs.map(async (job) => {
    await work(settings.workMs);
    done(job.data.i);
  }));
});
await heard('stop');
await boss.stop({ graceful: true, wait: true });
stopped(queries());
