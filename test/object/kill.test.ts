import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Durability } from '../../src/index.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';
import { tortureRun } from '../crash/kill-torture.js';
import { lossBound, objectStore, type ObjectWorkerConfig } from './kill-worker.js';

const WORKER = fileURLToPath(new URL('./kill-worker.ts', import.meta.url));
/** A few kills per mode here; `npm run test:torture -- --only object` lands hundreds. */
const KILLS = 4;

let azurite: AzuriteServer;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe('kill -9 torture (short), AzureBlobStore on Azurite', () => {
  for (const [index, durability] of (['full', 'normal', 'batched'] as Durability[]).entries()) {
    it(`${durability}: ${KILLS} kills over 80 items, nothing acknowledged lost${durability === 'batched' ? ' beyond the stated bound' : ''}`, async () => {
      const config: ObjectWorkerConfig = {
        connectionString: azurite.connectionString,
        container: await azurite.createContainer(),
        key: 'runs/checkpoint.json',
        durability,
        items: 80,
        concurrency: 3,
        ...(durability === 'batched' ? { batchSize: 5 } : {}),
      };
      const bound = lossBound(config);
      const result = await tortureRun({
        path: `az://${config.container}/${config.key}`,
        durability,
        items: config.items,
        kills: KILLS,
        concurrency: config.concurrency,
        seed: 9000 + index,
        ...(bound === undefined ? {} : { lossBound: bound }),
        worker: { script: WORKER, config, open: () => CheckpointManager.open({ store: objectStore(config), pipeline: 'crash-test', logger: { warn: () => {}, error: () => {} } }) },
      });
      expect(result.violations).toEqual([]);
      expect(result.kills).toBeGreaterThanOrEqual(KILLS);
      if (durability !== 'batched') expect(result.maxLostPerKill).toBe(0);
      if (durability === 'batched') expect(result.maxLostPerKill).toBeLessThanOrEqual(10);
    });
  }
});
