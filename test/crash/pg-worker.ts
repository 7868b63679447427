/**
 * The crash worker's twin for PostgresStore: the same line protocol (see test/crash/worker.ts)
 * plus an `opening` line just before the open, its checkpoint in a PostgreSQL schema instead of a
 * file. Config (JSON in argv[2]):
 * { connectionString, schema, durability, items, concurrency, batchSize? }.
 */
import { fileURLToPath } from 'node:url';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { PostgresStore } from '../../src/postgres.js';
import type { PostgresDurability } from '../../src/stores/postgres/options.js';
import { itemName, markAll, report, STEP } from './protocol.js';

export interface PostgresWorkerConfig {
  connectionString: string;
  schema: string;
  durability: PostgresDurability;
  items: number;
  concurrency: number;
  batchSize?: number;
}

export function postgresStore(config: PostgresWorkerConfig): PostgresStore {
  return new PostgresStore({
    connectionString: config.connectionString,
    schema: config.schema,
    pipeline: 'crash-test',
    durability: config.durability,
    ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize, batchIntervalMs: 50 }),
  });
}

async function main(config: PostgresWorkerConfig): Promise<void> {
  const items = Array.from({ length: config.items }, (_, i) => itemName(i));
  // Marks the start of the open, so that the harness can aim kills inside it.
  report('opening');
  const cp = await CheckpointManager.open({
    store: postgresStore(config),
    pipeline: 'crash-test',
    logger: { warn: (message: string) => report(`warn ${message.replace(/\n/g, ' ')}`), error: (message: string) => report(`warn ${message}`) },
  });
  const pending = cp.pendingItems(STEP, items);
  report(`open ${JSON.stringify({ completed: items.filter((item) => cp.isItemCompleted(STEP, item)), pending })}`);
  await markAll(cp, pending, config.concurrency, report);
  await cp.close();
  report('done');
}

// Only when run as the worker: the harness imports postgresStore from here.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  main(JSON.parse(process.argv[2]) as PostgresWorkerConfig).catch((error: unknown) => {
    const { code, message } = error as { code?: string; message?: string };
    report(`error ${code ?? 'UNKNOWN'} ${String(message).replace(/\n/g, ' ')}`);
    process.exitCode = 1;
  });
}
