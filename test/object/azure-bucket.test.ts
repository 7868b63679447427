import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { AzureBucket } from '../../src/stores/object/azure-bucket.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';

let azurite: AzuriteServer;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const client = (): BlobServiceClient => BlobServiceClient.fromConnectionString(azurite.connectionString);

describeBucketConformance({ describe, it, expect }, {
  name: 'AzureBucket on Azurite',
  createBucket: async () => new AzureBucket({ container: await azurite.createContainer(), client: client() }),
});

describe('AzureBucket', () => {
  it('takes its credentials from AZURE_STORAGE_CONNECTION_STRING', async () => {
    const container = await azurite.createContainer();
    const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
    process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
    try {
      const bucket = new AzureBucket({ container });
      expect(typeof (await bucket.create('a.json', Buffer.from('x')))).toBe('string');
    } finally {
      if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
      else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('says what to do without credentials', async () => {
    const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
    delete process.env.AZURE_STORAGE_CONNECTION_STRING;
    try {
      const error = await new AzureBucket({ container: 'nowhere' }).get('a.json').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(/az:\/\/nowhere: no credentials: set AZURE_STORAGE_CONNECTION_STRING, or pass `client`/);
    } finally {
      if (saved !== undefined) process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('says which setting is wrong for a malformed connection string, without repeating its key', async () => {
    const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
    try {
      for (const malformed of ['garbage', 'AccountName=x;AccountKey=c2VjcmV0LWtleQ==', 'AccountName=x;AccountKey=c2VjcmV0LWtleQ==;BlobEndpoint=not a url']) {
        process.env.AZURE_STORAGE_CONNECTION_STRING = malformed;
        const error = await new AzureBucket({ container: 'nowhere' }).get('a.json').catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(CheckpointStoreError);
        expect((error as Error).message).toMatch(/^az:\/\/nowhere: AZURE_STORAGE_CONNECTION_STRING is not a connection string the Azure SDK accepts/);
        expect((error as Error).message).not.toContain('c2VjcmV0LWtleQ');
      }
    } finally {
      if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
      else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('names the object and says to create a missing container', async () => {
    const bucket = new AzureBucket({ container: 'missing-container', client: client() });
    for (const call of [() => bucket.get('runs/a.json'), () => bucket.create('runs/a.json', Buffer.from('x')), () => bucket.list('runs/')]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(/az:\/\/missing-container\/runs\/.*create the container "missing-container" first/);
    }
  });

  it('throws what still fails after retries as a CheckpointStoreError naming the object', async () => {
    // A server that is gone: every attempt fails to connect.
    const dead = BlobServiceClient.fromConnectionString(azurite.connectionString.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9'), { retryOptions: { maxTries: 2, retryDelayInMs: 1 } });
    const error = await new AzureBucket({ container: 'any', client: dead }).get('runs/a.json').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/^az:\/\/any\/runs\/a\.json: could not read it: /);
  });
});
