import { assertJson, type JsonValue } from '../../core/json.js';
import type { PostgresConnection } from './connection.js';
import { LOCK_NAMESPACE } from './migrations.js';
import type { StageOutcome } from './options.js';
import type { Tables } from './tables.js';
import { encodeText } from './text-codec.js';
import { writeStage } from './write-changes.js';

/**
 * Runs a stage in exactly one worker. The worker that gets the stage's advisory lock runs `run`
 * and records the stage as completed before letting go; the others wait for the lock (or, with
 * `wait: false`, return at once) and then find the stage completed with its result. If the
 * running worker fails or dies, its lock goes with its connection and the next waiter runs the
 * stage itself.
 */
export async function runStageOnce<T extends JsonValue | void>(
  connection: PostgresConnection,
  tables: Tables,
  checkpointId: string,
  stage: string,
  run: () => Promise<T>,
  options: { wait: boolean },
): Promise<StageOutcome<T>> {
  const done = await completedStage<T>(connection, tables, checkpointId, stage);
  if (done) return done;
  const lockKey = JSON.stringify([tables.schema, checkpointId, stage]);
  const held = await connection.hold('locking a stage');
  try {
    if (options.wait) {
      await held.client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, lockKey]);
    } else {
      const { rows } = await held.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_NAMESPACE, lockKey]);
      if (!rows[0]?.locked) return (await completedStage<T>(connection, tables, checkpointId, stage)) ?? { ran: false, completed: false, result: undefined };
    }
    const finished = await completedStage<T>(connection, tables, checkpointId, stage);
    if (finished) return finished;
    const result = await run();
    if (result !== undefined) assertJson(result, 'result');
    const stored = result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as JsonValue);
    await connection.withClient('recording a stage', (client) => writeStage(client, tables, checkpointId, stage, Date.now(), stored));
    return { ran: true, completed: true, result };
  } finally {
    // Destroying the connection ends its session, which releases the lock.
    held.release();
  }
}

async function completedStage<T extends JsonValue | void>(
  connection: PostgresConnection,
  tables: Tables,
  checkpointId: string,
  stage: string,
): Promise<StageOutcome<T> | undefined> {
  const rows = await connection.query<{ result: T | null }>(
    'reading a stage',
    `SELECT result FROM ${tables.stages} WHERE checkpoint_id = $1 AND name = $2`,
    [checkpointId, encodeText(stage)],
  );
  const row = rows[0];
  return row ? { ran: false, completed: true, result: row.result ?? undefined } : undefined;
}
