import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { PostgresStore } from '../../src/postgres.js';
import { usePostgres } from '../support/postgres-fixture.js';
import { markFailuresAndResults, runCli, tempDir, type CliRun } from './cli-helpers.js';

// One schema for this file (the server is shared with other test files); one pipeline per test, so
// the tests run concurrently; each waits for CPU with the other processes, hence generous timeouts.
const { url, schema, pool: admin, freshSchema } = usePostgres({ poolSize: 2 });
const password = decodeURIComponent(new URL(url).password);

const HIDE_PG = fileURLToPath(new URL('../support/hide-pg.ts', import.meta.url));
/** What every message names the database by: the URL without its password. */
const where = `postgres://${new URL(url).username}@${new URL(url).host}${new URL(url).pathname}`;

/** `checkpointer ...args`; whatever happens, the password is in neither output. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}, preload: string[] = []): Promise<CliRun> {
  const run = await runCli(args, env, preload);
  expect(run.stdout + run.stderr).not.toContain(password);
  return run;
}

/** The CLI's arguments for the checkpoint of `pipeline` in this file's schema. */
const at = (pipeline: string, ...more: string[]): string[] => [url, '--schema', schema, '--pipeline', pipeline, ...more];

const storeFor = (pipeline: string, runId?: string): PostgresStore =>
  new PostgresStore({ connectionString: url, schema, pipeline, ...(runId === undefined ? {} : { runId }) });

/**
 * The CLI tests' checkpoint, in PostgreSQL: `enrich` (5 completed, doc-5 failed twice, {"id":7}
 * failed, doc-9 in progress) and `summarise` (1 completed with a result), a stage, a counter.
 */
async function makeCheckpoint(pipeline: string, runId?: string): Promise<void> {
  const cp = await CheckpointManager.open({ store: storeFor(pipeline, runId), pipeline, config: { model: 'm1' } });
  for (let i = 0; i < 5; i++) await cp.markItemCompleted('enrich', `doc-${i}`);
  await cp.markStageCompleted('prep');
  await markFailuresAndResults(cp);
  await cp.close();
}

const reopen = (pipeline: string): Promise<CheckpointManager> => CheckpointManager.open({ store: storeFor(pipeline), pipeline });

const schemaExists = async (name: string): Promise<boolean> =>
  (await admin.query<{ exists: boolean }>('SELECT to_regnamespace($1) IS NOT NULL AS exists', [`"${name}"`])).rows[0]!.exists;

describe.concurrent('read-only commands on a PostgreSQL checkpoint', () => {
  it('status, inspect, validate and list show what a manager wrote, without the password', async () => {
    await makeCheckpoint('look');
    await makeCheckpoint('look', 'r2');
    const [status, json, inspect, validate, list, postgresql] = await Promise.all([
      cli(['status', ...at('look')]),
      cli(['status', ...at('look', '--json')]),
      cli(['inspect', ...at('look', '--failed', '--json')]),
      cli(['validate', ...at('look', '--run-id', 'r2')]),
      cli(['list', url, '--schema', schema, '--json']),
      cli(['status', url.replace(/^postgres:/, 'postgresql:'), '--schema', schema, '--pipeline', 'look', '--json']),
    ]);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toContain(`Checkpoint  ${where} ${schema}/look (PostgreSQL)`);
    expect(status.stdout).toMatch(/enrich\s+-\s+5\s+-\s+-\s+2\s+0\s+0\s+1\s+-\s+-/);
    expect(status.stdout).toContain('Counters  cost=1.25');
    expect(status.stdout).not.toContain('Journal');

    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      location: `${where} ${schema}/look`,
      format: 'PostgreSQL',
      pipeline: 'look',
      lock: null,
      journal: null,
      steps: { enrich: { completed: 5, failed: 2, inProgress: 1 }, summarise: { completed: 1 } },
      stages: [{ name: 'prep' }],
      counters: { cost: 1.25 },
      errors: { count: 3 },
    });
    expect(JSON.parse(postgresql.stdout)).toMatchObject({ location: `postgresql://${where.slice('postgres://'.length)} ${schema}/look`, runId: report.runId });

    const failed = JSON.parse(inspect.stdout) as { items: { key: string; status: string; attempts: number; error: { message: string } }[]; total: number };
    expect(failed.total).toBe(2);
    expect(failed.items.map(({ key, attempts, error }) => [key, attempts, error.message])).toEqual([
      ['doc-5', 2, 'upstream said no'],
      ['{"id":7}', 1, 'bad input'],
    ]);

    expect(validate.code).toBe(0);
    expect(validate.stdout).toBe(`valid: ${where} ${schema}/look/r2 — 2 step(s), 9 item(s), 1 stage(s)\n`);

    const listed = JSON.parse(list.stdout) as { location: string; checkpoints: { pipeline: string; runId: string; items: Record<string, number> }[] };
    expect(listed.location).toBe(`${where} ${schema}`);
    expect(listed.checkpoints.filter((checkpoint) => checkpoint.pipeline === 'look')).toEqual([
      expect.objectContaining({ runId: '', items: { pending: 0, inProgress: 1, completed: 6, failed: 2, deadLetter: 0 } }),
      expect.objectContaining({ runId: 'r2' }),
    ]);
  });

  it('a checkpoint that is not there: exit 1 with where to look, and no tables are created', async () => {
    const empty = freshSchema();
    const args = [url, '--schema', empty, '--pipeline', 'nothing'];
    const [status, validate, reset, list] = await Promise.all([
      cli(['status', ...args]),
      cli(['validate', ...args, '--json']),
      cli(['reset', ...args]),
      cli(['list', url, '--schema', empty]),
    ]);
    for (const run of [status, reset]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`error: ${where} ${empty}/nothing: no checkpoint here — check --pipeline, --run-id and --schema; "checkpoint-resume list ${where} --schema ${empty}"`);
    }
    expect(validate.code).toBe(1);
    expect(JSON.parse(validate.stdout)).toMatchObject({ valid: false, problems: [{ message: expect.stringContaining('no checkpoint here') }] });
    expect(list).toMatchObject({ code: 0, stdout: `No checkpoints in ${where} ${empty}.\n` });
    expect(await schemaExists(empty)).toBe(false);
  });

  it('damaged rows: validate names the problem and how to start over; status refuses with the same advice', async () => {
    await makeCheckpoint('damaged');
    await admin.query(`UPDATE "${schema}".checkpoints SET metadata = '{"runId": 7}' WHERE pipeline = 'damaged'`);
    const [validate, status] = await Promise.all([cli(['validate', ...at('damaged')]), cli(['status', ...at('damaged')])]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain(`INVALID: ${where} ${schema}/damaged`);
    expect(validate.stdout).toContain('metadata.runId');
    expect(validate.stdout).toContain(`No backups are kept in PostgreSQL: fix the rows, or start over with DELETE FROM "${schema}".checkpoints WHERE pipeline = 'damaged' AND run = ''.`);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('see every problem with "checkpoint-resume validate');
    expect(status.stderr).not.toContain('checkpoint-resume restore');
  });
});

describe.concurrent('changing commands on a PostgreSQL checkpoint', () => {
  it('retry-failed and reset change it as a reopened manager sees', async () => {
    await makeCheckpoint('change');
    const retry = await cli(['retry-failed', ...at('change', '--step', 'enrich')]);
    expect(retry).toMatchObject({ code: 0, stderr: '', stdout: '2 failed item(s) of step "enrich" will be retried on the next run.\n' });
    let cp = await reopen('change');
    expect(cp.getItemStatus('enrich', 'doc-5')).toBe('pending');
    expect(cp.getItemStatus('enrich', { id: 7 })).toBe('pending');
    expect(cp.getProgressSummary().steps.enrich).toMatchObject({ completed: 5, failed: 0 });
    const runId = cp.runId;
    await cp.close();

    const step = await cli(['reset', ...at('change', '--step', 'enrich')]);
    expect(step.code).toBe(0);
    expect(step.stdout).toContain(`in ${where} ${schema}/change.`);
    cp = await reopen('change');
    expect(cp.steps).toEqual(['summarise']);
    await cp.close();

    const all = await cli(['reset', ...at('change')]);
    expect(all.stdout).toBe(`Reset ${where} ${schema}/change: 1 step(s), 1 item(s), 1 stage(s), context and counters forgotten.\n`);
    cp = await reopen('change');
    expect(cp.getProgressSummary()).toMatchObject({ runId, steps: {}, stages: [], counters: {} });
    await cp.close();
  });

  it('backups and restore are refused (exit 2); compact has nothing to do', async () => {
    await makeCheckpoint('files');
    const [backups, restore, compact] = await Promise.all([
      cli(['backups', ...at('files')]),
      cli(['restore', ...at('files', '--backup', '0')]),
      cli(['compact', ...at('files')]),
    ]);
    expect(backups).toMatchObject({ code: 2, stdout: '' });
    expect(backups.stderr).toContain("error: backups: PostgreSQL checkpoints have no backup files; use the database's own backups");
    expect(restore).toMatchObject({ code: 2, stdout: '' });
    expect(compact).toMatchObject({ code: 0, stderr: '', stdout: `${where} ${schema}/files is kept in tables and written in place, with no journal to fold in: there is nothing to compact.\n` });
  });
});

describe.concurrent('connecting', () => {
  it('a wrong password: exit 1, "could not connect", neither password in the output', async () => {
    const wrong = 'wrong-Pa55word';
    const bad = new URL(url);
    bad.password = wrong;
    const runs = await Promise.all(['status', 'reset'].map((command) => cli([command, bad.toString(), '--schema', schema, '--pipeline', 'look'])));
    for (const run of runs) {
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr).toContain(`error: ${where} ${schema}/look: could not connect`);
      expect(run.stderr).toContain('password authentication failed');
      expect(run.stderr).not.toContain(wrong);
    }
  });

  it('PGPASSWORD stands in for a password left out of the URL', async () => {
    await makeCheckpoint('env');
    const bare = new URL(url);
    bare.password = '';
    const run = await cli(['status', bare.toString(), '--schema', schema, '--pipeline', 'env', '--json'], { PGPASSWORD: password });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ pipeline: 'env', steps: { enrich: { completed: 5 } } });
  });

  it('without the pg package: a message that says to install it, exit 1; file checkpoints still work', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await CheckpointManager.open({ path, pipeline: 'demo' });
    await cp.markItemCompleted('enrich', 'doc-0');
    await cp.close();
    const [database, file] = await Promise.all([cli(['status', ...at('look')], {}, [HIDE_PG]), cli(['status', path], {}, [HIDE_PG])]);
    expect(database).toMatchObject({ code: 1, stdout: '' });
    expect(database.stderr).toBe(`error: ${where} ${schema}/look: reading a PostgreSQL checkpoint needs the "pg" package, which is not installed — install it beside checkpointer: npm install pg\n`);
    expect(file.code).toBe(0);
    expect(file.stdout).toContain('Pipeline    demo');
  });

  it('usage errors: no --pipeline for a URL, database flags on a file, list on a file', async () => {
    const path = join(tempDir(), 'cp.json');
    writeFileSync(path, '{}');
    const [noPipeline, flagsOnFile, listFile] = await Promise.all([
      cli(['inspect', url, '--schema', schema]),
      cli(['status', path, '--pipeline', 'p', '--run-id', 'r']),
      cli(['list', path]),
    ]);
    expect(noPipeline).toMatchObject({ code: 2, stdout: '' });
    expect(noPipeline.stderr).toContain(`error: ${where}: a PostgreSQL checkpoint is named by its pipeline — add --pipeline NAME`);
    expect(flagsOnFile).toMatchObject({ code: 2, stderr: `error: --pipeline, --run-id: only for a postgres:// checkpoint; ${path} is a file\n` });
    expect(listFile.code).toBe(2);
    expect(listFile.stderr).toContain(`list: takes a directory, searched with its subdirectories, or a postgres:// URL; ${path} is a file`);
  });
});
