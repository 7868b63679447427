import { hostname } from 'node:os';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';
import { markFailuresAndResults, runCli, type CliRun } from './cli-helpers.js';

// A real Azure Storage server (Azurite); the CLI runs as a real process that finds it through
// AZURE_STORAGE_CONNECTION_STRING, as it would find Azure.
let azurite: AzuriteServer;
let saved: string | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
  saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
  else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
  await azurite?.stop();
});

const cli = (args: string[]): Promise<CliRun> => runCli(args, { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString });
const quiet = { warn: () => {}, error: () => {} };

/** `enrich`: 5 completed, doc-5 failed twice, {"id":7} failed, doc-9 in progress; `summarise`: 1 completed; a stage; a counter. */
async function makeCheckpoint(url: string, close = true): Promise<CheckpointManager> {
  const cp = await CheckpointManager.open({ path: url, pipeline: 'train', durability: 'full', logger: quiet });
  for (let i = 0; i < 5; i++) await cp.markItemCompleted('enrich', `doc-${i}`);
  await cp.markStageCompleted('prep');
  await markFailuresAndResults(cp);
  if (close) await cp.close();
  return cp;
}

const blobs = (container: string) => BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);

async function blobText(container: string, key: string): Promise<string> {
  return (await blobs(container).getBlockBlobClient(key).downloadToBuffer()).toString('utf8');
}

describe('the CLI on checkpoints in a bucket (az:// on Azurite)', () => {
  it('status, inspect and validate read a checkpoint while its run holds the lease, changes not yet compacted included', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/runs/42/checkpoint.json`;
    const running = await makeCheckpoint(url, false);
    try {
      const [status, json, inspect, validate, watch] = await Promise.all([
        cli(['status', url]),
        cli(['status', url, '--json']),
        cli(['inspect', url, '--failed', '--json']),
        cli(['validate', url]),
        cli(['watch', url, '--once']),
      ]);
      // The lease is the lock, for watch as for status.
      expect(watch.code).toBe(0);
      expect(watch.stdout).toMatch(/Lock +held by process \d+ on .* \(a run is in progress\)/);
      expect(status).toMatchObject({ code: 0, stderr: '' });
      expect(status.stdout).toContain(`${url} (JSON)`);
      expect(status.stdout).toMatch(/held by process \d+/);
      const report = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({
        location: url,
        format: 'JSON',
        pipeline: 'train',
        lock: { pid: process.pid, alive: true },
        loadedFrom: null,
        steps: { enrich: { completed: 5, failed: 2, inProgress: 1 }, summarise: { completed: 1 } },
        stages: [{ name: 'prep' }],
        counters: { cost: 1.25 },
      });
      const failed = JSON.parse(inspect.stdout) as { items: { key: string; attempts: number }[] };
      expect(failed.items.map(({ key, attempts }) => [key, attempts])).toEqual([
        ['doc-5', 2],
        ['{"id":7}', 1],
      ]);
      expect(validate.code).toBe(0);
      expect(validate.stdout).toMatch(new RegExp(`^valid: ${url.replaceAll('/', '\\/')} — 2 step\\(s\\), 9 item\\(s\\), 1 stage\\(s\\), \\d+ change\\(s\\) in segments not yet compacted\\n$`));
      // The reads took no lease and wrote nothing: the holder goes on writing.
      await running.markItemCompleted('enrich', 'doc-after');
    } finally {
      await running.close();
    }
    // Piped, watch ends by itself once no run holds the lease and nothing changed.
    const watched = await cli(['watch', url, '--interval', '100']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('done: no run holds the lock and nothing changed since the last look');
    const closed = JSON.parse((await cli(['status', url, '--json'])).stdout) as { lock: unknown; steps: { enrich: { completed: number } } };
    expect(closed.lock).toBeNull();
    expect(closed.steps.enrich.completed).toBe(6);
  });

  it('watch shows a bucket checkpoint (--once), and to a pipe says when there is none', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/watched.json`;
    await makeCheckpoint(url);
    const [once, missing] = await Promise.all([cli(['watch', url, '--once']), cli(['watch', `az://${container}/none.json`, '--interval', '200'])]);
    expect(once.code).toBe(0);
    expect(once.stdout).toContain(url);
    expect(once.stdout).toMatch(/enrich/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`az://${container}/none.json: no checkpoint here (no such object) — check the URL`);
  });

  it('retry-failed and reset refuse while a run holds the lease (exit 3), then change what the next run sees', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/retry.yaml`;
    const running = await makeCheckpoint(url, false);
    const refused = await cli(['retry-failed', url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`error: ${url} is locked by process ${process.pid} on ${hostname()}, so nothing was changed`);
    // A bucket has no backups command to offer meanwhile.
    expect(refused.stderr).toContain('(status, inspect and validate work meanwhile)');
    await running.close();

    const retried = await cli(['retry-failed', url, '--step', 'enrich']);
    expect(retried).toMatchObject({ code: 0, stdout: '2 failed item(s) of step "enrich" will be retried on the next run.\n' });
    const after = await CheckpointManager.open({ path: url, pipeline: 'train', logger: quiet });
    expect(after.getProgressSummary().steps.enrich).toMatchObject({ completed: 5, failed: 0, deadLetter: 0 });
    await after.close();

    const reset = await cli(['reset', url, '--step', 'summarise']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain(`Reset step "summarise" (1 item(s) forgotten) in ${url}.`);
    const compact = await cli(['compact', url]);
    expect(compact).toMatchObject({ code: 0, stdout: `Compacted ${url}: its segments are folded into a new snapshot; the previous snapshot is ${url}.bak.\n` });
    const last = await CheckpointManager.open({ path: url, pipeline: 'train', logger: quiet });
    expect(last.steps).not.toContain('summarise');
    expect(last.isItemCompleted('enrich', 'doc-4')).toBe(true);
    await last.close();
  });

  it('a damaged snapshot: validate says so and names the good backup (exit 1), status shows the backup, reset refuses', async () => {
    const container = await azurite.createContainer();
    const key = 'damaged/checkpoint.json';
    const url = `az://${container}/${key}`;
    await makeCheckpoint(url);
    // A second run, so that the backup object holds a checkpoint too.
    const again = await CheckpointManager.open({ path: url, pipeline: 'train', logger: quiet });
    await again.markItemCompleted('enrich', 'doc-5');
    await again.close();
    const snapshot = await blobText(container, key);
    await blobs(container).getBlockBlobClient(key).upload(snapshot.replace('"doc-1"', '"doc-X"'), snapshot.length);

    const [validate, status, reset] = await Promise.all([cli(['validate', url, '--json']), cli(['status', url, '--json']), cli(['reset', url])]);
    expect(validate.code).toBe(1);
    const report = JSON.parse(validate.stdout) as { valid: boolean; problems: { where: string }[]; goodBackups: { path: string }[]; repair: string };
    expect(report.valid).toBe(false);
    expect(report.problems[0]!.where).toBe('checksum');
    expect(report.goodBackups).toEqual([{ index: 0, path: `${url}.bak` }]);
    expect(report.repair).toContain('recovers from it');
    expect(JSON.parse(status.stdout)).toMatchObject({ loadedFrom: `${url}.bak` });
    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain(`its backup ${url}.bak is good`);
    // Nothing was changed by any of them.
    expect(await blobText(container, key)).toBe(snapshot.replace('"doc-1"', '"doc-X"'));
  });

  it('list finds the checkpoints under a prefix and nothing else; list --json gives their counts', async () => {
    const container = await azurite.createContainer();
    await makeCheckpoint(`az://${container}/runs/1/checkpoint.json`);
    await makeCheckpoint(`az://${container}/runs/2/state.yaml`);
    // A "%" in a key: listed with it escaped, a URL that reads back as the same checkpoint.
    await makeCheckpoint(`az://${container}/runs/9/100%25.json`);
    // A checkpoint whose key holds another's segment-directory name is no evidence of that other one.
    await makeCheckpoint(`az://${container}/runs/10/x.json.segments/y.json`);
    await makeCheckpoint(`az://${container}/elsewhere/checkpoint.json`);
    // A job's own JSON beside a checkpoint is not one.
    const notes = '{"version": 1, "metadata": {"runId": "mine"}}';
    await blobs(container).getBlockBlobClient('runs/1/notes.json').upload(notes, notes.length);
    // Nor is a job's export with its own backup beside it: a `.bak` counts only when it holds a checkpoint.
    const exported = '{"rows": [1, 2, 3]}';
    for (const name of ['runs/3/export.json', 'runs/3/export.json.bak']) await blobs(container).getBlockBlobClient(name).upload(exported, exported.length);
    // A backup that merely looks like a checkpoint (no checksum line: not written by the library) is no evidence,
    // whether alone or beside a job's export; nor is a library-written backup beside a readable document of another kind.
    const lookalike = '{"version": 2, "metadata": {"runId": "x"}}';
    const libraryWritten = await blobText(container, 'runs/1/checkpoint.json');
    const put = async (name: string, text: string) => blobs(container).getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
    await put('runs/4/export.json', exported);
    await put('runs/4/export.json.bak', lookalike);
    await put('runs/5/alone.json.bak', lookalike);
    await put('runs/6/report.json', exported);
    await put('runs/6/report.json.bak', libraryWritten);
    // A damaged snapshot whose backup the library wrote is a checkpoint to recover, and so is a backup left alone.
    await put('runs/7/checkpoint.json', libraryWritten.slice(0, 40));
    await put('runs/7/checkpoint.json.bak', libraryWritten);
    await put('runs/8/checkpoint.json.bak', libraryWritten);
    // Names that only look like a lease or a segment: a person's, not the library's.
    await put('runs/11/j.json', exported);
    await put('runs/11/j.json.lease', 'hello');
    await put('runs/11/k.json', exported);
    await put('runs/11/k.json.segments/readme.txt', 'hello');

    const [listed, json, empty] = await Promise.all([cli(['list', `az://${container}/runs/`]), cli(['list', `az://${container}/runs/`, '--json']), cli(['list', `az://${container}/nothing/`])]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`Checkpoints under az://${container}/runs/:`);
    const report = JSON.parse(json.stdout) as { checkpoints: { path: string; pipeline: string; format: string; damaged: string | null; items: { completed: number } }[] };
    expect(report.checkpoints.map(({ path, format }) => [path, format])).toEqual([
      [`az://${container}/runs/1/checkpoint.json`, 'JSON'],
      [`az://${container}/runs/10/x.json.segments/y.json`, 'JSON'],
      [`az://${container}/runs/2/state.yaml`, 'YAML'],
      [`az://${container}/runs/7/checkpoint.json`, 'JSON'],
      [`az://${container}/runs/8/checkpoint.json`, 'JSON'],
      [`az://${container}/runs/9/100%25.json`, 'JSON'],
    ]);
    expect(report.checkpoints.find(({ path }) => path.endsWith('100%25.json'))).toMatchObject({ damaged: null });
    const percent = await cli(['status', `az://${container}/runs/9/100%25.json`, '--json']);
    expect(percent.code).toBe(0);
    expect(report.checkpoints[0]).toMatchObject({ pipeline: 'train', items: { completed: 6 } });
    expect(empty).toMatchObject({ code: 0, stdout: `No checkpoints under az://${container}/nothing/.\n` });
    expect(await blobText(container, 'runs/1/notes.json')).toBe(notes);
  });

  it('a damaged lease, which keeps every run out, is reported as damage by status, validate and list', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/runs/c.json`;
    await makeCheckpoint(url);
    await blobs(container).getBlockBlobClient('runs/c.json.lease').upload('garbage{', 8);
    const [status, validate, list, table] = await Promise.all([cli(['status', url]), cli(['validate', url]), cli(['list', `az://${container}/runs/`, '--json']), cli(['list', `az://${container}/runs/`])]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`${url}.lease: not a lease this library wrote`);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain(`INVALID: ${url}`);
    expect(validate.stdout).toContain(`If no process is running on this checkpoint, delete ${url}.lease and open it again.`);
    expect(JSON.parse(list.stdout)).toMatchObject({ checkpoints: [{ path: url, damaged: expect.stringContaining('not a lease this library wrote') }] });
    // Its lock was not read: the table does not call it free.
    const row = table.stdout.split('\n').find((line) => line.includes(url))!;
    expect(row).toContain('unknown');
    expect(row).not.toContain('free');
    // As the store, which refuses to open it.
    await expect(CheckpointManager.open({ path: url, logger: quiet })).rejects.toThrow(`${url}.lease: not a lease this library wrote`);
  });

  it('a completed checkpoint with a segment written late beside it is no checkpoint, and not listed', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/runs/done.json`;
    // A first run writes a segment, then a second run (a later epoch) completes the checkpoint,
    // after which a segment of the first run's epoch lands: what a first run that had lost its lease writes late.
    const first = await CheckpointManager.open({ path: url, pipeline: 'train', durability: 'full', logger: quiet });
    await first.markItemCompleted('enrich', 'doc-0');
    const segments: string[] = [];
    for await (const blob of blobs(container).listBlobsFlat({ prefix: 'runs/done.json.segments/' })) segments.push(blob.name);
    const late = await blobText(container, segments.at(-1)!);
    await first.close();
    const second = await CheckpointManager.open({ path: url, pipeline: 'train', durability: 'full', logger: quiet });
    await second.markItemCompleted('enrich', 'doc-1');
    await second.complete();
    const name = segments.at(-1)!.replace(/-\d{15}-\d{15}$/, '-000000000000099-000000000000099');
    await blobs(container).getBlockBlobClient(name).upload(late, Buffer.byteLength(late));
    const [status, list] = await Promise.all([cli(['status', url]), cli(['list', `az://${container}/runs/`])]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`${url}: no checkpoint here — a run completed it and removed it`);
    expect(list).toMatchObject({ code: 0, stdout: `No checkpoints under az://${container}/runs/.\n` });
  });

  it('refuses what buckets do not have, and bad URLs, as usage errors (exit 2)', async () => {
    const container = await azurite.createContainer();
    const url = `az://${container}/c.json`;
    const [backups, restore, cleanup, prefix, scheme, flags, missing, slash, listSlash, spaced] = await Promise.all([
      cli(['backups', url]),
      cli(['restore', url, '--backup', '0']),
      cli(['cleanup', `az://${container}/`, '--keep', '1']),
      cli(['status', `az://${container}/runs/`]),
      cli(['status', 'ftp://host/c.json']),
      cli(['status', url, '--pipeline', 'p']),
      cli(['status', url]),
      cli(['status', `az:/${container}/c.json`]),
      cli(['list', `az:/${container}/runs/`]),
      cli(['status', ` ${url}`]),
    ]);
    expect(backups.code).toBe(2);
    expect(backups.stderr).toContain('keeps one backup object, <key>.bak');
    expect(restore.code).toBe(2);
    expect(cleanup.code).toBe(2);
    expect(cleanup.stderr).toContain('lifecycle rule');
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain('ending in .json, .yaml or .yml');
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('az://, s3:// or gs://');
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('is in a bucket');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${url}: no checkpoint here (no such object)`);
    expect(slash.code).toBe(2);
    expect(slash.stderr).toContain('az://<bucket>/<key>.json');
    expect(listSlash).toMatchObject({ code: 2, stdout: '' });
    expect(listSlash.stderr).toContain(`Expected the prefix to be az://<bucket>/<prefix>, got \`"az:/${container}/runs/"\``);
    expect(spaced).toMatchObject({ code: 2, stdout: '' });
    expect(spaced.stderr).toContain('Expected the checkpoint without spaces around the URL');
  });

  it('without credentials, or with a malformed one: exit 1, saying which setting to fix', async () => {
    const run = await runCli(['status', 'az://runs/c.json'], { AZURE_STORAGE_CONNECTION_STRING: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AZURE_STORAGE_CONNECTION_STRING');
    // A malformed one is the user's setting, not a bug of the tool (exit 4).
    const malformed = await runCli(['status', 'az://runs/c.json'], { AZURE_STORAGE_CONNECTION_STRING: 'AccountName=x;AccountKey=abc' });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('AZURE_STORAGE_CONNECTION_STRING is not a connection string');
    const [s3, gcs] = await Promise.all([
      runCli(['status', 's3://runs/c.json'], { AWS_ENDPOINT_URL_S3: 'not a url', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'us-east-1' }),
      runCli(['status', 'gs://runs/c.json'], { STORAGE_EMULATOR_HOST: 'not a url' }),
    ]);
    expect(s3.code).toBe(1);
    expect(s3.stderr).toContain('check AWS_ENDPOINT_URL_S3');
    expect(gcs.code).toBe(1);
    expect(gcs.stderr).toContain('check STORAGE_EMULATOR_HOST');
  });
});
