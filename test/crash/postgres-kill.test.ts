import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { PostgresDurability } from '../../src/stores/postgres/options.js';
import { tortureRun } from './kill-torture.js';
import { postgresStore, type PostgresWorkerConfig } from './pg-worker.js';

const url = inject('pgUrl');
const WORKER = fileURLToPath(new URL('./pg-worker.ts', import.meta.url));
const KILLS = 2;

describe('kill -9 torture (short), PostgresStore', () => {
  for (const [index, durability] of (['full', 'normal', 'batched'] as PostgresDurability[]).entries()) {
    it(`${durability}: ${KILLS} kills over 60 items, nothing acknowledged lost`, async () => {
      const config: PostgresWorkerConfig = { connectionString: url, schema: `torture_${randomUUID().slice(0, 8)}`, durability, items: 60, concurrency: 3, ...(durability === 'batched' ? { batchSize: 10 } : {}) };
      const result = await tortureRun({
        path: config.schema,
        durability,
        items: config.items,
        kills: KILLS,
        concurrency: config.concurrency,
        seed: 7000 + index,
        ...(config.batchSize ? { batchSize: config.batchSize } : {}),
        worker: { script: WORKER, config, open: () => CheckpointManager.open({ store: postgresStore(config), pipeline: 'crash-test', logger: { warn: () => {}, error: () => {} } }) },
      });
      expect(result.violations).toEqual([]);
      expect(result.kills).toBeGreaterThanOrEqual(KILLS);
      if (durability === 'batched') expect(result.maxLostPerKill).toBeLessThanOrEqual(10);
    });
  }
});
