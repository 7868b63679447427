import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsStore } from '../../src/stores/object/gcs-store.js';
import { describeStoreConformance } from '../../src/testing.js';
import { startFakeGcsServer, type FakeGcsServer } from '../support/fake-gcs-server.js';

let gcs: FakeGcsServer;
beforeAll(async () => {
  gcs = await startFakeGcsServer();
});
afterAll(async () => {
  await gcs?.stop();
});

const newBucket = (): { bucket: string; storage: Storage } => {
  const bucket = `b${randomUUID().replaceAll('-', '')}`;
  gcs.createBucket(bucket);
  return { bucket, storage: new Storage({ apiEndpoint: gcs.endpoint, projectId: 'test' }) };
};

for (const durability of ['full', 'normal', 'batched'] as const) {
  describeStoreConformance({ describe, it, expect }, {
    name: `GcsStore on a local server of the GCS JSON API (${durability})`,
    createStore: () => {
      const { bucket, storage } = newBucket();
      return { create: () => new GcsStore({ bucket, key: 'runs/42/checkpoint.json', storage, durability }) };
    },
    volume: 1000,
  });
}

describeStoreConformance({ describe, it, expect }, {
  name: 'GcsStore on a local server of the GCS JSON API (YAML, compacting every few segments)',
  createStore: () => {
    const { bucket, storage } = newBucket();
    return { create: () => new GcsStore({ bucket, key: 'checkpoint.yaml', storage, durability: 'full', maxSegments: 3 }) };
  },
  volume: 500,
});
