import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/postgres.js';
import type { PostgresDurability } from '../../src/postgres.js';
import { describeStoreConformance } from '../../src/testing.js';
import { usePostgres } from '../support/postgres-fixture.js';

const { url, schema, pool } = usePostgres({ poolSize: 6 });

// 'normal' differs from 'full' only by synchronous_commit, which this suite cannot observe.
for (const durability of ['full', 'batched'] satisfies PostgresDurability[]) {
  describeStoreConformance({ describe, it, expect }, {
    name: `PostgresStore (${durability}, shared pool)`,
    createStore: () => {
      const pipeline = `conformance-${randomUUID()}`;
      return {
        // A batch larger than any test's marks: only flush on close can have sent them.
        create: () => new PostgresStore({ pool, schema, pipeline, durability, batchSize: 1_000_000, batchIntervalMs: 60_000 }),
      };
    },
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'PostgresStore (own pool from a connection string, run id)',
  createStore: () => {
    const pipeline = 'conformance';
    const runId = randomUUID();
    return { create: () => new PostgresStore({ connectionString: url, schema, pipeline, runId }) };
  },
  volume: 1000,
});
