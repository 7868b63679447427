import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { ScriptedPipeline } from '../pipeline/support.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';
import { withEnv } from '../support/with-env.js';

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

describe('az:// paths', () => {
  it('open a checkpoint in a container, resumable, with a readable snapshot blob', async () => {
    const container = await azurite.createContainer();
    const path = `az://${container}/runs/42/checkpoint.yaml`;
    const cp = await CheckpointManager.open({ path, pipeline: 'train', durability: 'full' });
    expect(cp.location).toBe(path);
    await cp.markItemCompleted('embed', 'doc-1');
    await cp.close();
    const again = await CheckpointManager.open({ path, pipeline: 'train' });
    expect(again.isItemCompleted('embed', 'doc-1')).toBe(true);
    await again.close();
    const blob = await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).getBlockBlobClient('runs/42/checkpoint.yaml').downloadToBuffer();
    expect(blob.toString('utf8')).toMatch(/^checksum: crc32:[0-9a-f]{8}\nversion: 1\nsequence: \d+\nepoch: \d{10}\n[\s\S]*- "doc-1"/);
  });

  it('a Pipeline on an az:// path resumes at the failed step, and force starts over even from a damaged snapshot', async () => {
    const container = await azurite.createContainer();
    const path = `az://${container}/runs/7/.checkpoint.json`;
    const calls: string[] = [];
    const failing = { second: true };
    type Ctx = { a?: number; b?: number };
    const steps = (): StepDefinition<Ctx>[] => [
      { name: 'first', run: () => (calls.push('first'), { a: 1 }) },
      { name: 'second', run: (ctx) => {
        calls.push('second');
        if (failing.second) throw new Error('spot VM preempted');
        return { b: (ctx.a ?? 0) + 1 };
      } },
    ];
    const logger = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
    await expect(new ScriptedPipeline<Ctx>('cloud', steps, { path, logger }).run({})).rejects.toThrow('spot VM preempted');
    failing.second = false;
    const resumed = await new ScriptedPipeline<Ctx>('cloud', steps, { path, logger }).run({});
    expect(calls).toEqual(['first', 'second', 'second']);
    expect(resumed).toMatchObject({ resumedFromCheckpoint: true, skippedSteps: ['first'], context: { a: 1, b: 2 } });

    // A third run is stopped before its end, and the snapshot and its backup are then damaged by hand.
    failing.second = true;
    await expect(new ScriptedPipeline<Ctx>('cloud', steps, { path, logger }).run({}, { force: true })).rejects.toThrow('spot VM preempted');
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    for (const key of ['runs/7/.checkpoint.json', 'runs/7/.checkpoint.json.bak']) {
      if (await blobs.getBlockBlobClient(key).exists()) await blobs.getBlockBlobClient(key).upload('{"broken', 8);
    }
    await expect(new ScriptedPipeline<Ctx>('cloud', steps, { path, logger }).run({})).rejects.toThrow(/damaged|corrupt/i);
    failing.second = false;
    calls.length = 0;
    const fresh = await new ScriptedPipeline<Ctx>('cloud', steps, { path, logger }).run({}, { force: true });
    expect(calls).toEqual(['first', 'second']);
    expect(fresh.resumedFromCheckpoint).toBe(false);
    const names: string[] = [];
    for await (const blob of blobs.listBlobsFlat({ prefix: 'runs/7/' })) names.push(blob.name);
    expect(names.some((name) => name.startsWith('runs/7/.checkpoint.json.corrupt-'))).toBe(true);
  });

  it("take the deployment's CHECKPOINTER_* variables as a file does: an option in code wins, a bad value stops the open", async () => {
    const container = await azurite.createContainer();
    const path = `az://${container}/runs/env.json`;
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container);
    const segments = async (): Promise<number> => {
      let count = 0;
      for await (const _ of blobs.listBlobsFlat({ prefix: 'runs/env.json.segments/' })) count++;
      return count;
    };
    await withEnv({ CHECKPOINTER_DURABILITY: 'batched', CHECKPOINTER_BATCH_SIZE: '1000', CHECKPOINTER_BATCH_INTERVAL_MS: '600000', CHECKPOINTER_BACKUPS: '2' }, async () => {
      const cp = await CheckpointManager.open({ path });
      await cp.markItemCompleted('step', 'a');
      expect(await segments()).toBe(0); // batched: acknowledged before it is written
      await cp.flush();
      expect(await segments()).toBe(1);
      await cp.close();
      const explicit = await CheckpointManager.open({ path, durability: 'full' });
      const before = await segments();
      await explicit.markItemCompleted('step', 'b');
      expect(await segments()).toBe(before + 1); // full: written before it resolves
      await explicit.close();
    });
    for (const [variable, value] of [['CHECKPOINTER_DURABILITY', 'fast'], ['CHECKPOINTER_BATCH_SIZE', '0'], ['CHECKPOINTER_FSYNC_INTERVAL_MS', '-1']] as const) {
      await withEnv({ [variable]: value }, async () => {
        await expect(CheckpointManager.open({ path })).rejects.toThrow(`Expected the environment variable ${variable}`);
        expect(() => new AzureBlobStore({ container, key: 'runs/env.json' })).toThrow(variable);
      });
    }
  });

  it('refuse what they cannot use, saying why', async () => {
    expect(() => new ScriptedPipeline('cloud', () => [], { path: 'az://container/c.json', maxSegments: 3 } as never)).toThrow(/`maxSegments` is an option of AzureBlobStore/);
    await Promise.all([
      expect(CheckpointManager.open({ path: 'ftp://host/checkpoint.json' })).rejects.toThrow(/Expected `path` to be a file path or a URL starting with az:\/\/, s3:\/\/, gs:\/\/, got `"ftp:\/\/host\/checkpoint.json"`/),
      // A slash short is a typo, not a local file named `az:`.
      expect(CheckpointManager.open({ path: 'az:/container/c.json' })).rejects.toThrow(/Expected `path` to be az:\/\/<bucket>\/<key>\.json \(or \.yaml\), got `"az:\/container\/c\.json"` \(string\); a local file of that name is \.\/az:\/container\/c\.json/),
      expect(CheckpointManager.open({ path: 'S3:bucket/c.json' })).rejects.toThrow(CheckpointArgumentError),
      // A space before a URL does not turn it into a local file; a double slash names the slash the key would start with.
      expect(CheckpointManager.open({ path: ' az://container/c.json' })).rejects.toThrow('Expected `path` without spaces around the URL, got `" az://container/c.json"` (string) — remove them; a local file of that name is reached as "./ az://container/c.json"'),
      // SDKs resolve "." and ".." in the request URL: such a key would be written under another name than it is read by.
      ...['az://container/./c.json', 'az://container/runs/../c.json', 'az://container/x%2F..%2Fc.json', 'az://container/runs//c.json'].map((path) =>
        expect(CheckpointManager.open({ path })).rejects.toThrow(`Expected \`path\` to have no empty, "." or ".." path segments in its key, got \`"${path}"\``),
      ),
      // The Azure SDK turns a backslash into "/": the acknowledged marks of `runs\\c.json` were read back from nowhere.
      // A NUL or a newline is not carried as written either.
      ...['az://container/a\\c.json', 'az://container/a%5Cc.json', 'az://container/a%00.json', 'az://container/a%0Ab.json', 'az://container/a\nb.json', 'az://container/a%7F.json'].map((path) =>
        expect(CheckpointManager.open({ path })).rejects.toThrow('Expected `path` to have no backslash or control character (a NUL, a newline…) in its key, got `"az://container/a'),
      ),
      expect(CheckpointManager.open({ path: 'az://container/%zz.json' })).rejects.toThrow('Expected `path` to have valid percent-escapes in its key (%25 for a "%")'),
      expect(CheckpointManager.open({ path: 'az://container//runs/c.json' })).rejects.toThrow('Expected `path` to have one slash between the bucket and the key, got `"az://container//runs/c.json"` (string) — write az://container/runs/c.json'),
      expect(CheckpointManager.open({ path: 'az://container' })).rejects.toThrow(/Expected `path` to be az:\/\/<bucket>\/<key>\.json \(or \.yaml\)/),
      expect(CheckpointManager.open({ path: 'az://container/notes.txt' })).rejects.toThrow(/Expected `key` to be a blob name ending in \.json, \.yaml or \.yml, without empty, "\." or "\.\." path segments \(nor a leading "\/"\), backslashes or control characters, got `"notes.txt"`/),
      expect(CheckpointManager.open({ path: 'az://Bad_Name/c.json' })).rejects.toThrow(/Expected `container` to be an Azure container name/),
      expect(CheckpointManager.open({ path: 'az://container/c.json', backups: 2 })).rejects.toThrow(/Expected no `backups` together with `az:\/\/container\/c\.json`.*apply to checkpoint files only/),
      expect(CheckpointManager.open({ path: 'az://container/c.json', lock: false })).rejects.toThrow(CheckpointArgumentError),
      // An option of the store class names the store to make; an unknown one lists only what a URL takes.
      expect(CheckpointManager.open({ path: 'az://container/runs/c.json', leaseTtlMs: 5000 } as never)).rejects.toThrow("`leaseTtlMs` is an option of AzureBlobStore, not of a bucket URL — pass `store: new AzureBlobStore({ container: 'container', key: 'runs/c.json', leaseTtlMs })`"),
      CheckpointManager.open({ path: 'az://container/c.json', foo: 1 } as never).catch((error: unknown) => {
        expect((error as Error).message).toMatch(/^Unknown option `foo` for CheckpointManager.open — the options are `durability`/);
        expect((error as Error).message).not.toMatch(/`backups`|`lock`|`fsyncIntervalMs`/);
      }),
    ]);
  });

  it('AzureBlobStore checks its options, naming the wrong one', () => {
    expect(() => new AzureBlobStore({ container: 'runs', key: 'c.json', leaseTtlMs: 50 })).toThrow(/Expected `leaseTtlMs` to be/);
    // A file store's option is named as one, not answered with a near name (`batchIntervalMs`).
    expect(() => new AzureBlobStore({ container: 'runs', key: 'c.json', fsyncIntervalMs: 5 } as never)).toThrow(
      'Expected no `fsyncIntervalMs` together with `AzureBlobStore`, because it would be ignored — those apply to checkpoint files only; AzureBlobStore takes `durability`',
    );
    for (const key of ['/c.json', 'runs/./c.json', 'runs/../c.json', 'a//c.json', 'runs\\c.json', 'a\u0000.json', 'a\nb.json']) {
      expect(() => new AzureBlobStore({ container: 'runs', key })).toThrow('Expected `key` to be a blob name ending in .json, .yaml or .yml, without empty, "." or ".." path segments (nor a leading "/"), backslashes or control characters');
    }
    expect(() => new AzureBlobStore({ key: 'c.json' } as never)).toThrow(/Expected `container` to be an Azure container name/);
    expect(() => new AzureBlobStore({ container: 'runs', key: 'c.json', client: {} as never })).toThrow(/Expected `client` to be a BlobServiceClient/);
  });
});
