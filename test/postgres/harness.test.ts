import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { usePostgres } from '../support/postgres-fixture.js';

const { pool } = usePostgres();

it('talks to a real PostgreSQL server', async () => {
  const { rows } = await pool.query<{ version: string }>('select version()');
  expect(rows[0]?.version).toContain('PostgreSQL');
});

it('FOR UPDATE SKIP LOCKED hands concurrent claimers disjoint rows', async () => {
  // Unique name: other test files may share this database concurrently.
  const table = `harness_jobs_${randomUUID().replaceAll('-', '')}`;
  await pool.query(`create table ${table} (id int primary key, claimed_by text)`);
  const a = await pool.connect();
  const b = await pool.connect();
  try {
    await Promise.all([
      a.query(`insert into ${table} (id) select generate_series(1, 5)`),
      b.query(`insert into ${table} (id) select generate_series(6, 10)`),
    ]);

    const claim = async (client: pg.PoolClient, name: string): Promise<number[]> => {
      const { rows } = await client.query<{ id: number }>(
        `update ${table} set claimed_by = $1 where id in (
           select id from ${table} where claimed_by is null
           order by id limit 5 for update skip locked
         ) returning id`,
        [name],
      );
      return rows.map((row) => row.id);
    };

    await Promise.all([a.query('begin'), b.query('begin')]);
    const [claimedByA, claimedByB] = await Promise.all([claim(a, 'a'), claim(b, 'b')]);

    // Both transactions are still open, so every row is locked by one of them.
    const { rows: leftover } = await pool.query(
      `select id from ${table} for update skip locked`,
    );
    expect(leftover).toEqual([]);

    expect(claimedByA).toHaveLength(5);
    expect(claimedByB).toHaveLength(5);
    expect(claimedByA.filter((id) => claimedByB.includes(id))).toEqual([]);
    await Promise.all([a.query('commit'), b.query('commit')]);

    const { rows: owners } = await pool.query<{ claimed_by: string; n: number }>(
      `select claimed_by, count(*)::int as n from ${table} group by claimed_by order by claimed_by`,
    );
    expect(owners).toEqual([
      { claimed_by: 'a', n: 5 },
      { claimed_by: 'b', n: 5 },
    ]);
  } finally {
    // Destroy rather than return them: after a failed assertion they may still
    // hold row locks in an open transaction, which would block the drop below.
    a.release(true);
    b.release(true);
    await pool.query(`drop table if exists ${table}`);
  }
});
