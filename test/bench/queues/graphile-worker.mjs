/**
 * Scenario 11's worker for graphile-worker, configured as its performance page recommends for
 * throughput: jobs added in one `addJobs` batch, a local queue (jobs fetched in batches), job
 * completions batched (`completeJobBatchDelay: 0`), a pool one larger than the concurrency.
 * Runs on Node 22 (graphile-worker needs >= 22.18). Protocol: see worker-io.ts.
 */
import { createRequire } from 'node:module';
import { config, countQueries, heard, reporter, stopped, work } from './worker-io.ts';

const require = createRequire(import.meta.url);
const { Logger, makeWorkerUtils, run } = require('graphile-worker');
const queries = countQueries(require('pg'));
const settings = config();
const logger = new Logger(() => () => {});

if (settings.role === 'setup') {
  const utils = await makeWorkerUtils({ connectionString: settings.url, schema: settings.schema, logger });
  await utils.migrate();
  await utils.addJobs(Array.from({ length: settings.items }, (_, i) => ({ identifier: 'item', payload: { i } })));
  await utils.release();
  stopped(queries());
}

const done = reporter();
process.stdout.write('ready\n');
await heard('go');
const runner = await run({
  logger,
  noHandleSignals: true,
  preset: {
    worker: {
      connectionString: settings.url,
      schema: settings.schema,
      concurrentJobs: settings.concurrency,
      maxPoolSize: settings.concurrency + 1,
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
  taskList: {
    item: async (payload) => {
      await work(settings.workMs);
      done(payload.i);
    },
  },
});
await heard('stop');
await runner.stop();
stopped(queries());
