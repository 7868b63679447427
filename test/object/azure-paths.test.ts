import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';

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
    expect(blob.toString('utf8')).toMatch(/^checksum: crc32:[0-9a-f]{8}\nversion: 1\nsequence: \d+\nepoch: 2\n[\s\S]*- "doc-1"/);
  });

  it('refuse what they cannot use, saying why', async () => {
    await Promise.all([
      expect(CheckpointManager.open({ path: 'ftp://host/checkpoint.json' })).rejects.toThrow(/Expected `path` to be a file path or a URL starting with az:\/\/, s3:\/\/, gs:\/\/, got `"ftp:\/\/host\/checkpoint.json"`/),
      expect(CheckpointManager.open({ path: 'az://container' })).rejects.toThrow(/Expected `path` to be az:\/\/<bucket>\/<key>\.json \(or \.yaml\)/),
      expect(CheckpointManager.open({ path: 'az://container/notes.txt' })).rejects.toThrow(/Expected `key` to be a blob name ending in \.json, \.yaml or \.yml, got `"notes.txt"`/),
      expect(CheckpointManager.open({ path: 'az://Bad_Name/c.json' })).rejects.toThrow(/Expected `container` to be an Azure container name/),
      expect(CheckpointManager.open({ path: 'az://container/c.json', backups: 2 })).rejects.toThrow(/Expected no `backups` together with `az:\/\/container\/c\.json`.*only apply to checkpoint files/),
      expect(CheckpointManager.open({ path: 'az://container/c.json', lock: false })).rejects.toThrow(CheckpointArgumentError),
    ]);
  });

  it('AzureBlobStore checks its options, naming the wrong one', () => {
    expect(() => new AzureBlobStore({ container: 'runs', key: 'c.json', leaseTtlMs: 50 })).toThrow(/Expected `leaseTtlMs` to be/);
    expect(() => new AzureBlobStore({ key: 'c.json' } as never)).toThrow(/Expected `container` to be an Azure container name/);
    expect(() => new AzureBlobStore({ container: 'runs', key: 'c.json', client: {} as never })).toThrow(/Expected `client` to be a BlobServiceClient/);
  });
});
