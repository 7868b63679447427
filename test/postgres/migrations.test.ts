import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { PostgresStore } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';

const { url, pool, freshSchema } = usePostgres();

describe('tables created on first use', () => {
  it('workers starting at once on an empty database create the schema once and share one checkpoint', async () => {
    const schema = freshSchema();
    // Separate connection strings' pools: each store migrates on its own, as separate processes would.
    const managers = await Promise.all(
      [0, 1, 2, 3, 4].map(() => CheckpointManager.open({ pipeline: 'p', store: new PostgresStore({ connectionString: url, schema, pipeline: 'p' }) })),
    );
    expect(new Set(managers.map((cp) => cp.runId)).size).toBe(1);
    const versions = await pool.query<{ version: number }>(`SELECT version FROM "${schema}".schema_version`);
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    const tables = await pool.query<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    expect(tables.rows.map((row) => row.name)).toEqual(['checkpoints', 'counters', 'errors', 'items', 'schema_version', 'stages', 'steps']);
    await Promise.all(managers.map((cp) => cp.close()));
  });

  it('a schema written by a newer checkpointer is refused with a clear error', async () => {
    const schema = freshSchema();
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE TABLE "${schema}".schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    await pool.query(`INSERT INTO "${schema}".schema_version (version) VALUES (99)`);
    const store = new PostgresStore({ connectionString: url, schema, pipeline: 'p' });
    await expect(CheckpointManager.open({ store })).rejects.toThrow(/version 99, newer than this checkpointer supports \(3\) — upgrade checkpointer/);
  });

  it('the claim index keeps claims off finished items', async () => {
    const schema = freshSchema();
    const store = new PostgresStore({ connectionString: url, schema, pipeline: 'p' });
    await store.queue('s').registerItems(['a']);
    const { rows } = await pool.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [schema, 'items_unfinished']);
    expect(rows[0]?.indexdef).toMatch(/WHERE \(status = ANY/);
    await store.close();
  });
});

describe('read()', () => {
  it('reads a checkpoint without creating tables, and sees what workers saved', async () => {
    const schema = freshSchema();
    const reader = new PostgresStore({ connectionString: url, schema, pipeline: 'p' });
    expect(await reader.read()).toBe(undefined);
    const exists = await pool.query<{ exists: boolean }>('SELECT to_regnamespace($1) IS NOT NULL AS exists', [schema]);
    expect(exists.rows[0]?.exists).toBe(false);
    const cp = await CheckpointManager.open({ pipeline: 'p', store: new PostgresStore({ connectionString: url, schema, pipeline: 'p' }) });
    await cp.markItemCompleted('s', 'a');
    await cp.markStageCompleted('download', { frames: 3 });
    const document = await reader.read();
    expect(document?.metadata.runId).toBe(cp.runId);
    expect(document?.steps['s']?.completedItems).toEqual(['a']);
    expect(document?.stages.map((stage) => stage.name)).toEqual(['download']);
    await cp.close();
    await reader.close();
  });
});
