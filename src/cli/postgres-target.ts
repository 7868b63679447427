import { CheckpointCorruptError, CheckpointStoreError } from '../core/errors.js';
import type { CheckpointDocument } from '../core/model.js';
import { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { Logger } from '../manager/options.js';
import { describeConnection } from '../stores/postgres/connection.js';
import type { CheckpointListing } from '../stores/postgres/list-checkpoints.js';
import type { PostgresStore } from '../stores/postgres/postgres-store.js';
import { CliError } from './cli-error.js';

/** A checkpoint in PostgreSQL: the store's connection string, pipeline, run and schema. */
export interface DatabaseTarget {
  kind: 'postgres';
  connectionString: string;
  pipeline: string;
  runId: string | undefined;
  schema: string | undefined;
}

/** A connection string without its password (nor its parameters, which may hold one), for messages. */
export const redact = (url: string): string => describeConnection(url);

/**
 * A person is waiting: a server that refuses connections is reported within a second or two, not
 * after the store's default of eight retries, which suit long-running workers.
 */
const RETRY = { retries: 2, initialMs: 200, maxMs: 1000 };

type PostgresModule = typeof import('../postgres.js');

/** Loaded on first use, so that the CLI runs on file checkpoints without `pg` installed. */
const loadPostgres = (): Promise<PostgresModule> => import('../postgres.js');

async function storeFor(target: DatabaseTarget): Promise<PostgresStore> {
  const { PostgresStore } = await loadPostgres();
  return new PostgresStore({
    connectionString: target.connectionString,
    pipeline: target.pipeline,
    ...(target.runId === undefined ? {} : { runId: target.runId }),
    ...(target.schema === undefined ? {} : { schema: target.schema }),
    retry: RETRY,
  });
}

/** The store's "install pg" error, said for a person running the CLI. */
function explainMissingPg(error: unknown, location: string): unknown {
  const code = error instanceof CheckpointStoreError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return error;
  return new CliError(`${location}: reading a PostgreSQL checkpoint needs the "pg" package, which is not installed — install it beside checkpointer: npm install pg`);
}

const flagsOf = (target: DatabaseTarget): string =>
  `--pipeline ${JSON.stringify(target.pipeline)}${target.runId ? ` --run-id ${JSON.stringify(target.runId)}` : ''}${target.schema ? ` --schema ${target.schema}` : ''}`;

/** How to start over from a damaged database checkpoint, which has no backups to restore. */
export function databaseRepairHint(target: DatabaseTarget): string {
  const schema = target.schema ?? 'checkpointer';
  const where = `pipeline = '${target.pipeline.replaceAll("'", "''")}' AND run = '${(target.runId ?? '').replaceAll("'", "''")}'`;
  return `no backups are kept in PostgreSQL: fix the rows, or start over with DELETE FROM "${schema}".checkpoints WHERE ${where}`;
}

/**
 * Reads a database checkpoint without creating tables or taking locks, so it works while
 * workers run; `document` is undefined when there is none. Rows that do not add up to a valid
 * checkpoint are an error that says what to do.
 */
export async function readDatabaseIfAny(target: DatabaseTarget): Promise<{ location: string; document: CheckpointDocument | undefined }> {
  const store = await storeFor(target);
  try {
    return { location: store.location, document: await store.read() };
  } catch (error) {
    if (error instanceof CheckpointCorruptError) {
      const hint = `see every problem with "checkpoint-resume validate ${redact(target.connectionString)} ${flagsOf(target)}"; ${databaseRepairHint(target)}`;
      throw new CheckpointCorruptError(store.location, error.problems, { hint });
    }
    throw explainMissingPg(error, store.location);
  } finally {
    await store.close();
  }
}

export const noCheckpointMessage = (target: DatabaseTarget): string =>
  `no checkpoint here — check --pipeline, --run-id and --schema; "checkpoint-resume list ${redact(target.connectionString)}${target.schema ? ` --schema ${target.schema}` : ''}" shows the checkpoints in the schema`;

/** As readDatabaseIfAny, and a checkpoint that is not there is an error. */
export async function readDatabase(target: DatabaseTarget): Promise<{ location: string; document: CheckpointDocument }> {
  const { location, document } = await readDatabaseIfAny(target);
  if (!document) throw new CliError(`${location}: ${noCheckpointMessage(target)}`);
  return { location, document };
}

/**
 * Opens a database checkpoint to change it. It is read first, because opening a checkpoint that
 * is not there would create it. There is no lock: workers may run meanwhile (see docs/cli.md).
 */
export async function openDatabase(target: DatabaseTarget, logger: Logger): Promise<CheckpointManager> {
  await readDatabase(target);
  const store = await storeFor(target);
  try {
    return await CheckpointManager.open({ store, pipeline: target.pipeline, logger });
  } catch (error) {
    throw explainMissingPg(error, store.location);
  }
}

/** The checkpoints in a schema, as `checkpoint-resume list` shows them. */
export async function listDatabase(connectionString: string, schema: string | undefined): Promise<{ location: string; checkpoints: CheckpointListing[] }> {
  const { PostgresStore } = await loadPostgres();
  const location = `${redact(connectionString)} ${schema ?? 'checkpointer'}`;
  try {
    const checkpoints = await PostgresStore.list({ connectionString, ...(schema === undefined ? {} : { schema }), retry: RETRY });
    return { location, checkpoints };
  } catch (error) {
    throw explainMissingPg(error, location);
  }
}

/** `compact` on a database checkpoint: there is nothing to fold in, which is said, not refused. */
export async function compactDatabase(target: DatabaseTarget): Promise<string> {
  const { location } = await readDatabase(target);
  return `${location} is kept in tables and written in place, with no journal to fold in: there is nothing to compact.`;
}
