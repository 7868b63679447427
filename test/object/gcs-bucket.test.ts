import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { GcsBucket } from '../../src/stores/object/gcs-bucket.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';
import { startFakeGcsServer, type FakeGcsServer } from '../support/fake-gcs-server.js';
import { withEnv } from '../support/with-env.js';

let gcs: FakeGcsServer;
beforeAll(async () => {
  gcs = await startFakeGcsServer();
});
afterAll(async () => {
  await gcs?.stop();
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A client of the fake server, retrying quickly: the tests wait for retries, not for backoff. */
const storage = (maxRetries = 5): Storage => new Storage({ apiEndpoint: gcs.endpoint, projectId: 'test', retryOptions: { autoRetry: true, maxRetries, retryDelayMultiplier: 1.1, maxRetryDelay: 2, totalTimeout: 60 } });
const newBucket = (maxRetries?: number): { name: string; bucket: GcsBucket } => {
  const name = `b${randomUUID().replaceAll('-', '')}`;
  gcs.createBucket(name);
  return { name, bucket: new GcsBucket({ bucket: name, storage: storage(maxRetries) }) };
};

describeBucketConformance({ describe, it, expect }, {
  name: 'GcsBucket on a local server of the GCS JSON API',
  createBucket: () => newBucket().bucket,
});

describe('GcsBucket', () => {
  it('retries 429 and 503, and writes once', async () => {
    const { name, bucket } = newBucket();
    const before = gcs.requests.length;
    gcs.failNext(1, 429);
    gcs.failNext(1, 503);
    const version = await bucket.create('runs/a.json', bytes('first'));
    expect(typeof version).toBe('string');
    const uploads = gcs.requests.slice(before).filter((request) => request.startsWith(`POST /upload/storage/v1/b/${name}/o`));
    expect(uploads.map((request) => request.split(' ').at(-1))).toEqual(['429', '503', '200']);
    expect((await bucket.get('runs/a.json'))?.version).toBe(version);
  });

  it('reads a 412 as a lost condition, not as an error, and keeps the winner', async () => {
    const { bucket } = newBucket();
    const first = (await bucket.create('runs/a.json', bytes('first')))!;
    expect(await bucket.create('runs/a.json', bytes('second'))).toBe(undefined);
    expect(await bucket.replace('runs/a.json', bytes('third'), String(Number(first) - 1))).toBe(undefined);
    expect(gcs.requests.filter((request) => request.endsWith(' 412')).length).toBeGreaterThanOrEqual(2);
    expect(new TextDecoder().decode((await bucket.get('runs/a.json'))!.body)).toBe('first');
  });

  it('rides out the one-write-per-second limit on one object name (429, retried)', async () => {
    const { bucket } = newBucket(20);
    gcs.sameObjectWriteInterval(300);
    try {
      let version = (await bucket.create('runs/lease', bytes('0')))!;
      for (let n = 1; n <= 3; n++) version = (await bucket.replace('runs/lease', bytes(String(n)), version))!;
      expect(new TextDecoder().decode((await bucket.get('runs/lease'))!.body)).toBe('3');
      expect(gcs.requests.some((request) => request.endsWith(' 429'))).toBe(true);
    } finally {
      gcs.sameObjectWriteInterval(0);
    }
  });

  it('throws what still fails after the retries as a CheckpointStoreError naming the object, acknowledging nothing', async () => {
    const { name, bucket } = newBucket(2);
    gcs.failNext(3, 503);
    const error = await bucket.create('runs/a.json', bytes('x')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(new RegExp(`^gs://${name}/runs/a\\.json: could not write it: `));
    expect(await bucket.get('runs/a.json')).toBe(undefined);
  });

  it('names the object and says to create a missing bucket', async () => {
    const bucket = new GcsBucket({ bucket: 'missing-bucket', storage: storage() });
    for (const call of [() => bucket.get('runs/a.json'), () => bucket.create('runs/a.json', bytes('x')), () => bucket.list('runs/')]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(/gs:\/\/missing-bucket\/runs\/.*create the bucket "missing-bucket" first/);
    }
  });

  it('takes its endpoint from STORAGE_EMULATOR_HOST', async () => {
    const name = `b${randomUUID().replaceAll('-', '')}`;
    gcs.createBucket(name);
    await withEnv({ STORAGE_EMULATOR_HOST: gcs.endpoint, GOOGLE_CLOUD_PROJECT: 'test' }, async () => {
      const bucket = new GcsBucket({ bucket: name });
      expect(typeof (await bucket.create('a.json', bytes('x')))).toBe('string');
    });
    expect(gcs.requests.some((request) => request.startsWith(`POST /upload/storage/v1/b/${name}/o`))).toBe(true);
  });
});
