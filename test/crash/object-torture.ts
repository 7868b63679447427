/**
 * The object-storage part of the long kill run: one scenario per durability mode, each in a fresh
 * container of one throwaway Azurite server.
 */
import { fileURLToPath } from 'node:url';
import type { Durability } from '../../src/index.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { startAzurite } from '../support/azurite.js';
import { lossBound, objectStore, type ObjectWorkerConfig } from '../object/kill-worker.js';
import { tortureRun } from './kill-torture.js';
import type { KillScenario } from './pg-torture.js';

const WORKER = fileURLToPath(new URL('../object/kill-worker.ts', import.meta.url));
const BATCH_SIZE = 50;

/** Starts Azurite and lists the scenarios; `stop` stops the server (and its in-memory containers with it). */
export async function objectTortureScenarios(options: { items: number; kills: number }): Promise<{ scenarios: KillScenario[]; stop: () => Promise<void> }> {
  const azurite = await startAzurite();
  const scenarios = await Promise.all((['full', 'normal', 'batched'] as Durability[]).map(async (durability, index): Promise<KillScenario> => {
    const batchSize = durability === 'batched' ? BATCH_SIZE : undefined;
    const config: ObjectWorkerConfig = {
      connectionString: azurite.connectionString,
      container: await azurite.createContainer(),
      key: 'torture/checkpoint.json',
      durability,
      items: options.items,
      concurrency: 4,
      ...(batchSize ? { batchSize } : {}),
    };
    const bound = lossBound(config);
    return {
      label: 'az',
      durability,
      ...(batchSize ? { batchSize } : {}),
      run: () =>
        tortureRun({
          path: `az://${config.container}/${config.key}`,
          durability,
          items: options.items,
          kills: options.kills,
          concurrency: config.concurrency,
          seed: 40_000 + index,
          ...(bound === undefined ? {} : { lossBound: bound }),
          worker: {
            script: WORKER,
            config,
            open: (logger) => CheckpointManager.open({ store: objectStore(config), pipeline: 'crash-test', logger }),
          },
        }),
    };
  }));
  return { scenarios, stop: () => azurite.stop() };
}
