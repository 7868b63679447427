/**
 * The PostgresStore part of the long kill run: one scenario per durability mode, each in a fresh
 * schema of one throwaway PostgreSQL server (or of `CHECKPOINTER_PG_URL`).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Durability } from '../../src/index.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { PostgresDurability } from '../../src/stores/postgres/options.js';
import { startPostgres } from '../support/postgres.js';
import { tortureRun, type TortureResult } from './kill-torture.js';
import { postgresStore, type PostgresWorkerConfig } from './pg-worker.js';

const WORKER = fileURLToPath(new URL('./pg-worker.ts', import.meta.url));
const BATCH_SIZE = 50;

/** One kill scenario: its label in the report, and the run itself. */
export interface KillScenario {
  label: string;
  durability: Durability;
  batchSize?: number;
  run: () => Promise<TortureResult>;
}

/** Starts the server and lists the scenarios; `stop` drops their schemas and stops the server. */
export async function postgresTortureScenarios(options: { items: number; kills: number }): Promise<{ scenarios: KillScenario[]; stop: () => Promise<void> }> {
  const server = await startPostgres();
  const schemas: string[] = [];
  const scenarios = (['full', 'normal', 'batched'] as PostgresDurability[]).map((durability, index): KillScenario => {
    const batchSize = durability === 'batched' ? BATCH_SIZE : undefined;
    const config: PostgresWorkerConfig = {
      connectionString: server.url,
      schema: `torture_${durability}_${randomUUID().slice(0, 8)}`,
      durability,
      items: options.items,
      concurrency: 4,
      ...(batchSize ? { batchSize } : {}),
    };
    schemas.push(config.schema);
    return {
      label: 'pg',
      durability,
      ...(batchSize ? { batchSize } : {}),
      run: () =>
        tortureRun({
          path: config.schema,
          durability,
          items: options.items,
          kills: options.kills,
          concurrency: config.concurrency,
          seed: 30_000 + index,
          ...(batchSize ? { batchSize } : {}),
          worker: {
            script: WORKER,
            config,
            open: (logger) => CheckpointManager.open({ store: postgresStore(config), pipeline: 'crash-test', logger }),
          },
        }),
    };
  });
  const stop = async (): Promise<void> => {
    try {
      // A server of our own goes away with its data; an outside one keeps nothing of the run.
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
  };
  return { scenarios, stop };
}
