import type { Scenario } from '../lib/figures.js';

/**
 * Scenario 9, PostgresStore items/s for 1, 2 and 4 workers against one worker on the JSON file
 * store. The hook: once `src/postgres.ts` exports PostgresStore, start a server with
 * `startPostgres()` from test/support/postgres.ts, run N worker processes over one step with
 * `step.forEach`, and return one rateFigure per worker count (baseline: a single worker on a
 * JsonFileStore, same items, same run). Run with `npm run bench -- --only 9`.
 */
export const postgresScenario: Scenario = {
  numbers: [9],
  title: 'PostgresStore, 1 / 2 / 4 workers',
  async run({ log }) {
    log('  PostgresStore is not measured yet: scenario 9 is a hook (see test/bench/scenarios/postgres.ts)');
    return [];
  },
};
