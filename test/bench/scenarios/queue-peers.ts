import { postgresVersion } from '../../support/postgres-throughput.js';
import { startPostgres } from '../../support/postgres.js';
import { costFigure, rateFigure, type Figure, type Scenario } from '../lib/figures.js';
import { median } from '../lib/measure.js';
import { runQueue, type QueueName, type QueueRunResult } from '../lib/queue-run.js';

/** Items in flight in each worker, as in scenario 9. */
const CONCURRENCY = 8;
const QUEUES: QueueName[] = ['checkpointer', 'graphile-worker', 'pg-boss'];
const LEVELS = [
  { workMs: 0, id: 'nowork', text: 'no work' },
  { workMs: 5, id: 'work5ms', text: '5 ms awaited work' },
] as const;

const workersText = (n: number): string => `${n} worker${n > 1 ? 's' : ''}`;
const samplesText = (results: QueueRunResult[]): string => results.map((r) => Math.round(r.itemsPerSecond)).join(', ');

/**
 * Scenario 11: PostgresStore (`forEachClaimed`) against graphile-worker and pg-boss, each
 * configured for throughput, on the same server, at 1, 2 and 4 worker processes, with no work
 * and with 5 ms of awaited work per item. Interleaved: in each repetition every queue runs at
 * every worker count before the next repetition starts. Every run checks that each item was
 * handled exactly once and is recorded as done.
 */
export const queuePeersScenario: Scenario = {
  numbers: [11],
  title: 'PostgresStore vs graphile-worker and pg-boss, 1 / 2 / 4 workers, exactly once',
  async run({ scale, log }) {
    const server = await startPostgres();
    const figures: Figure[] = [];
    const workerCounts = scale.quick ? [1] : [1, 2, 4];
    const repetitions = scale.quick ? 1 : scale.repetitions;
    try {
      log(`  ${(await postgresVersion(server.url)).split(',')[0]}; the server scenario 9 uses (fsync off: it measures protocol and claims, not a disk); concurrency ${CONCURRENCY} per worker`);
      for (const level of LEVELS) {
        const items = level.workMs === 0 ? scale.postgresItems : scale.postgresWorkItems;
        if (items === 0) {
          log(`  ${level.text}: not measured in the quick run`);
          continue;
        }
        const results = new Map<string, QueueRunResult[]>();
        const key = (queue: QueueName, workers: number): string => `${queue}/${workers}`;
        for (let rep = 0; rep < repetitions; rep++) {
          for (const workers of workerCounts) {
            for (const queue of QUEUES) {
              const result = await runQueue(server.url, queue, workers, { items, workMs: level.workMs, concurrency: CONCURRENCY });
              results.set(key(queue, workers), [...(results.get(key(queue, workers)) ?? []), result]);
            }
            log(`  ${level.text}, ${workersText(workers)}, rep ${rep + 1}: ${QUEUES.map((q) => { const r = results.get(key(q, workers))!.at(-1)!; return `${q} ${Math.round(r.itemsPerSecond)}/s (${r.statementsPerItem.toFixed(2)} statements, ${r.commitsPerItem.toFixed(2)} commits per item)`; }).join('; ')}`);
          }
        }
        for (const workers of workerCounts) {
          const ours = results.get(key('checkpointer', workers))!;
          const value = median(ours.map((r) => r.itemsPerSecond));
          const label = `PostgresStore, ${workersText(workers)}, ${level.text}`;
          const note = `${items} items, concurrency ${CONCURRENCY} per worker, each item handled exactly once`;
          for (const [queue, id] of [['graphile-worker', 'graphile'], ['pg-boss', 'pgboss']] as const) {
            const theirs = results.get(key(queue, workers))!;
            figures.push(rateFigure({ id: `pgpeers.${level.id}.w${workers}.${id}`, scenario: 11, label, value, unit: 'items/s', baseline: { label: queue, value: median(theirs.map((r) => r.itemsPerSecond)) }, samples: ours.map((r) => r.itemsPerSecond), note: `${note}; ${queue} samples ${samplesText(theirs)}` }));
          }
          if (level.workMs > 0) {
            const ceiling = (workers * CONCURRENCY * 1000) / level.workMs;
            figures.push(costFigure({ id: `pgceiling.${level.id}.w${workers}`, scenario: 11, label: `${label}: share of the work-bound ceiling (${ceiling} items/s)`, value: (value / ceiling) * 100, unit: '%', note: `graphile-worker ${((median(results.get(key('graphile-worker', workers))!.map((r) => r.itemsPerSecond)) / ceiling) * 100).toFixed(0)}%` }));
          }
          for (const [id, what, pick] of [['pgstatements', 'statements sent per item', (r: QueueRunResult) => r.statementsPerItem], ['pgcommits', 'transactions committed per item', (r: QueueRunResult) => r.commitsPerItem]] as const) {
            const of = (queue: QueueName): number => median(results.get(key(queue, workers))!.map(pick));
            figures.push(costFigure({ id: `${id}.${level.id}.w${workers}`, scenario: 11, label: `${label}: ${what}`, value: of('checkpointer'), unit: 'per item', baseline: { label: `graphile-worker (pg-boss: ${of('pg-boss').toFixed(3)})`, value: of('graphile-worker') } }));
          }
        }
      }
    } finally {
      await server.stop();
    }
    return figures;
  },
};
