/**
 * The PostgreSQL fixture of a test file: the run's one server (started by
 * postgres-global-setup.ts), a schema of the file's own, dropped after the file, and a pool for
 * the SQL the tests run themselves. Test files share the server and run at the same time, so
 * each works in its own schema and each test in its own pipeline.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../src/postgres.js';

export interface PostgresFixture {
  /** The server's URL, with its password. */
  url: string;
  /** This file's schema. */
  schema: string;
  /** A pool of this file, for the test's own SQL or to hand to stores; ended after the file. */
  pool: pg.Pool;
  /** Another schema, also dropped after the file: for tests that need an empty one. */
  freshSchema(): string;
  /** A name no other test uses: `prefix-<uuid>`. */
  unique(prefix: string): string;
  /** A store in this file's schema, on a connection string of its own, for a new pipeline unless `options` names one. */
  store(options?: Partial<PostgresStoreOptions>): PostgresStore;
  /** Makes the leases on `pipeline`'s held items run out now, as if `leaseMs` had passed; returns how many. */
  expireLeases(pipeline: string): Promise<number>;
  /** Claims `pipeline`'s held items for another worker under a new token (counting an attempt), without waiting for their lease. */
  takeOver(pipeline: string): Promise<{ key: string; token: string }[]>;
  /** A pool whose connections carry `application_name` `name`, so that a test can find and terminate them; ended after the file. */
  namedPool(): { pool: pg.Pool; name: string };
}

/** Call once at the top of a test file. */
export function usePostgres(options: { poolSize?: number } = {}): PostgresFixture {
  const url = inject('pgUrl');
  const schemas: string[] = [];
  const pools: pg.Pool[] = [];
  const newPool = (config: pg.PoolConfig): pg.Pool => {
    const pool = new pg.Pool({ connectionString: url, ...config });
    // A test that terminates backends makes idle clients error; the store under test reports what matters.
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  };
  const pool = newPool({ max: options.poolSize ?? 4 });
  const unique = (prefix: string): string => `${prefix}-${randomUUID()}`;
  const freshSchema = (): string => {
    const schema = `cp_${randomUUID().slice(0, 8)}`;
    schemas.push(schema);
    return schema;
  };
  const schema = freshSchema();
  /** What only time or another worker would do to the items held in `pipeline`'s checkpoint, done at once. */
  const updateHeld = async (pipeline: string, set: string): Promise<{ key: string; token: string }[]> => {
    const { rows } = await pool.query<{ key: string; token: string }>(
      `UPDATE "${schema}".items SET ${set}
       WHERE status = 'in_progress' AND step_id IN (
         SELECT s.id FROM "${schema}".steps s JOIN "${schema}".checkpoints c ON c.id = s.checkpoint_id WHERE c.pipeline = $1)
       RETURNING key, lease_token AS token`,
      [pipeline],
    );
    return rows;
  };
  afterAll(async () => {
    for (const each of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${each}" CASCADE`);
    await Promise.all(pools.map((each) => each.end()));
  });
  return {
    url,
    schema,
    pool,
    freshSchema,
    unique,
    store: (given = {}) => new PostgresStore({ ...(given.pool ? {} : { connectionString: url }), schema, pipeline: unique('p'), ...given }),
    expireLeases: async (pipeline) => (await updateHeld(pipeline, "lease_expires_at = clock_timestamp() - interval '1 millisecond'")).length,
    takeOver: (pipeline) => updateHeld(pipeline, "lease_token = gen_random_uuid(), attempts = attempts + 1, lease_expires_at = clock_timestamp() + interval '1 hour'"),
    namedPool: () => {
      const name = unique('cp-test').slice(0, 20);
      return { pool: newPool({ application_name: name, max: 6 }), name };
    },
  };
}
