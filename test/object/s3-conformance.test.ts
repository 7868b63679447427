import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../src/stores/object/s3-store.js';
import { describeStoreConformance } from '../../src/testing.js';
import { startConditionsProxy, type ConditionsProxy } from '../support/s3-conditions-proxy.js';
import { startS3rver, type S3rverServer } from '../support/s3rver.js';

let s3rver: S3rverServer;
let proxy: ConditionsProxy;
beforeAll(async () => {
  s3rver = await startS3rver();
  proxy = await startConditionsProxy(s3rver.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await s3rver?.stop();
});

// The fencing probe on: s3rver's data path, with S3's conditions enforced by the proxy in front.
for (const durability of ['full', 'normal', 'batched'] as const) {
  describeStoreConformance({ describe, it, expect }, {
    name: `S3Store on s3rver with S3's conditions (${durability})`,
    createStore: async () => {
      const bucket = await s3rver.createBucket();
      const client = s3rver.client(3, proxy.endpoint);
      return { create: () => new S3Store({ bucket, key: 'runs/42/checkpoint.json', client, durability }) };
    },
    volume: 1000,
  });
}

// s3rver itself ignores conditions: only with the opt-out, as a user of such a server would run it.
describeStoreConformance({ describe, it, expect }, {
  name: 'S3Store on s3rver with unsafeSkipFencingProbe (YAML, compacting every few segments)',
  createStore: async () => {
    const bucket = await s3rver.createBucket();
    const client = s3rver.client();
    return { create: () => new S3Store({ bucket, key: 'checkpoint.yaml', client, durability: 'full', maxSegments: 3, unsafeSkipFencingProbe: true }) };
  },
  volume: 500,
});
