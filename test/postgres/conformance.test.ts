import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PostgresStore } from '../../src/postgres.js';
import type { PostgresDurability } from '../../src/postgres.js';
import { describeStoreConformance } from '../../src/testing.js';

const url = inject('pgUrl');
// One schema for this file (the server is shared with other test files); one pipeline per test.
const schema = `cp_${randomUUID().slice(0, 8)}`;
const pool = new pg.Pool({ connectionString: url, max: 6 });
pool.on('error', () => {});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

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
