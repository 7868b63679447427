/**
 * The GCS adapter against a real emulator (fake-gcs-server, or another one that speaks the JSON
 * API), when one is given in STORAGE_EMULATOR_HOST (e.g. http://127.0.0.1:4443): a new bucket is
 * made in it for these tests. Without it, one test says so, by name and on the console, and
 * nothing else here is registered.
 */
import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { GcsBucket } from '../../src/stores/object/gcs-bucket.js';
import { GcsStore } from '../../src/stores/object/gcs-store.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';
import { describeStoreConformance } from '../../src/testing.js';
import { PrefixedBucket } from '../support/prefixed-bucket.js';

const emulator = process.env.STORAGE_EMULATOR_HOST;

if (!emulator) {
  it('GCS adapter on a real emulator: NOT RUN — set STORAGE_EMULATOR_HOST (e.g. fake-gcs-server) to run it', () => {
    console.warn('[gcs-emulator.test.ts] the GCS adapter was NOT run against a real emulator: set STORAGE_EMULATOR_HOST (see docs/object-storage.md)');
    expect(emulator).toBe(undefined);
  });
}

// Not registered at all without an emulator, so that nothing is counted as skipped: the test above says it.
if (emulator) describe(`GCS emulator at ${emulator}`, () => {
  const bucketName = `checkpointer-tests-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    await new Storage({ projectId: process.env.GOOGLE_CLOUD_PROJECT ?? 'test' }).createBucket(bucketName);
  });

  describeBucketConformance({ describe, it, expect }, {
    name: 'GcsBucket',
    createBucket: () => new PrefixedBucket(new GcsBucket({ bucket: bucketName }), `${randomUUID()}/`),
  });

  describeStoreConformance({ describe, it, expect }, {
    name: 'GcsStore (full)',
    createStore: () => {
      const key = `${randomUUID()}/checkpoint.json`;
      return { create: () => new GcsStore({ bucket: bucketName, key, durability: 'full' }) };
    },
    volume: 300,
  });
});
