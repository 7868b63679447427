import { CheckpointStoreError } from '../../core/errors.js';
import type { PostgresConnection } from './connection.js';

/** First key of every advisory lock checkpointer takes ('cpkt'), so that they never clash with the application's. */
export const LOCK_NAMESPACE = 0x63706b74;

/**
 * The schema, version by version. A migration is never edited once released: changes go in a
 * new entry, so that every database can be brought up to date from whatever version it has.
 * `$S` stands for the quoted schema name.
 */
const MIGRATIONS: readonly string[] = [
  // 1: checkpoints with their document parts in rows; items keyed by a hash of their key so that
  // keys of any length fit a btree index.
  `CREATE TABLE $S.checkpoints (
     id bigserial PRIMARY KEY,
     pipeline text NOT NULL,
     run text NOT NULL,
     metadata json NOT NULL,
     context json NOT NULL DEFAULT '{}',
     created_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (pipeline, run)
   );
   CREATE TABLE $S.steps (
     id bigserial PRIMARY KEY,
     checkpoint_id bigint NOT NULL REFERENCES $S.checkpoints (id) ON DELETE CASCADE,
     name text NOT NULL,
     summary json,
     UNIQUE (checkpoint_id, name)
   );
   CREATE TABLE $S.items (
     step_id bigint NOT NULL REFERENCES $S.steps (id) ON DELETE CASCADE,
     key text NOT NULL,
     key_hash uuid GENERATED ALWAYS AS (md5(key)::uuid) STORED,
     seq bigserial,
     status text NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'dead_letter')),
     attempts integer NOT NULL DEFAULT 0,
     error json,
     result json,
     updated_at timestamptz,
     lease_token uuid,
     lease_expires_at timestamptz,
     PRIMARY KEY (step_id, key_hash)
   );
   -- Only unfinished items are in this index, so claims stay fast however many items are done.
   CREATE INDEX items_unfinished ON $S.items (step_id, seq) WHERE status IN ('pending', 'in_progress', 'failed');
   CREATE TABLE $S.stages (
     checkpoint_id bigint NOT NULL REFERENCES $S.checkpoints (id) ON DELETE CASCADE,
     name text NOT NULL,
     position bigserial,
     completed_at timestamptz NOT NULL,
     result json,
     PRIMARY KEY (checkpoint_id, name)
   );
   CREATE TABLE $S.counters (
     checkpoint_id bigint NOT NULL REFERENCES $S.checkpoints (id) ON DELETE CASCADE,
     name text NOT NULL,
     position bigserial,
     value double precision NOT NULL,
     PRIMARY KEY (checkpoint_id, name)
   );
   CREATE TABLE $S.errors (
     id bigserial PRIMARY KEY,
     checkpoint_id bigint NOT NULL REFERENCES $S.checkpoints (id) ON DELETE CASCADE,
     entry json NOT NULL
   );
   CREATE INDEX errors_by_checkpoint ON $S.errors (checkpoint_id, id);`,
  // 2: how many items a step has in all, when the application said (forEach over an array, setTotal).
  `ALTER TABLE $S.steps ADD COLUMN total bigint;`,
  // 3: a fingerprint of the item keys registered in full, so that the workers after the first
  // need not insert them all again (the column goes with the step, and so with its items).
  `ALTER TABLE $S.steps ADD COLUMN registered_keys text;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Schemas known to be up to date, per pool or connection string: later stores skip the migration round trips. */
const migratedPools = new WeakMap<object, Set<string>>();
const migratedUrls = new Map<string, Set<string>>();

/** The set of schemas this process has brought up to date through `pool` or `url`. */
export function migratedSchemas(pool: object | undefined, url: string | undefined): Set<string> {
  const existing = pool ? migratedPools.get(pool) : migratedUrls.get(url!);
  if (existing) return existing;
  const created = new Set<string>();
  if (pool) migratedPools.set(pool, created);
  else migratedUrls.set(url!, created);
  return created;
}

/**
 * Creates the schema and its tables, or brings them up to date. An advisory lock makes workers
 * that start at the same moment take turns, so that none sees a half-made schema.
 */
export async function migrate(connection: PostgresConnection, schema: string, quoted: string): Promise<void> {
  await connection.withClient('creating the checkpoint tables', async (client) => {
    // On error the connection is destroyed, which releases the lock too.
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, schema]);
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regnamespace($1) IS NOT NULL AS exists', [quoted]);
    if (!rows[0]?.exists) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const versions = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.schema_version`);
    const current = versions.rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new CheckpointStoreError(
        connection.location,
        `schema "${schema}" has version ${current}, newer than this checkpointer supports (${SCHEMA_VERSION}) — upgrade checkpointer on this machine`,
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      await client.query('BEGIN');
      await client.query(MIGRATIONS[version - 1]!.replaceAll('$S', quoted));
      await client.query(`INSERT INTO ${quoted}.schema_version (version) VALUES ($1)`, [version]);
      await client.query('COMMIT');
    }
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, schema]);
  });
}
