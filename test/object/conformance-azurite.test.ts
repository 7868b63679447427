import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import { describeStoreConformance } from '../../src/testing.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';

let azurite: AzuriteServer;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

for (const durability of ['full', 'normal', 'batched'] as const) {
  describeStoreConformance({ describe, it, expect }, {
    name: `AzureBlobStore on Azurite (${durability})`,
    createStore: async () => {
      const container = await azurite.createContainer();
      const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
      return { create: () => new AzureBlobStore({ container, key: 'runs/42/checkpoint.json', client, durability }) };
    },
    volume: 2000,
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'AzureBlobStore on Azurite (YAML, compacting every few segments)',
  createStore: async () => {
    const container = await azurite.createContainer();
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    return { create: () => new AzureBlobStore({ container, key: 'checkpoint.yaml', client, durability: 'full', maxSegments: 3 }) };
  },
  volume: 500,
});
