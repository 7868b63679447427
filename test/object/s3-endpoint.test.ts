/**
 * The conditional paths against a real S3 service that enforces conditions (MinIO, AWS S3), when
 * one is given: CHECKPOINTER_TEST_S3_ENDPOINT (e.g. http://127.0.0.1:9000, or "aws" for AWS's
 * own) and CHECKPOINTER_TEST_S3_BUCKET (an existing bucket; the tests write under a random
 * prefix of it), with the SDK's usual AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
 * (default us-east-1) and AWS_S3_FORCE_PATH_STYLE (MinIO: true). Without them, one test says
 * so, by name and on the console, and nothing else here is registered.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3Bucket } from '../../src/stores/object/s3-bucket.js';
import { S3Store } from '../../src/stores/object/s3-store.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';
import { describeStoreConformance } from '../../src/testing.js';
import { PrefixedBucket } from '../support/prefixed-bucket.js';
import { withEnv } from '../support/with-env.js';

const endpoint = process.env.CHECKPOINTER_TEST_S3_ENDPOINT;
const bucketName = process.env.CHECKPOINTER_TEST_S3_BUCKET;
const given = Boolean(endpoint && bucketName);
const environment = { AWS_ENDPOINT_URL_S3: endpoint === 'aws' ? undefined : endpoint, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1' };

if (!given) {
  it('conditional S3 paths on a real server: NOT RUN — set CHECKPOINTER_TEST_S3_ENDPOINT and CHECKPOINTER_TEST_S3_BUCKET to run them', () => {
    console.warn('[s3-endpoint.test.ts] conditional S3 paths on a real server were NOT run: set CHECKPOINTER_TEST_S3_ENDPOINT and CHECKPOINTER_TEST_S3_BUCKET (see docs/object-storage.md)');
    expect(given).toBe(false);
  });
}

// Not registered at all without a server, so that nothing is counted as skipped: the test above says it.
if (given) describe(`S3 at ${endpoint}`, () => {
  const inEnvironment = <T>(body: () => Promise<T>): Promise<T> => withEnv(environment, body);
  const bucket = (): PrefixedBucket => new PrefixedBucket(new S3Bucket({ bucket: bucketName!, probePrefix: `checkpointer-tests/${randomUUID()}/` }), `checkpointer-tests/${randomUUID()}/`);

  it('passes the fencing probe', async () => {
    await inEnvironment(async () => expect(await bucket().get('none.json')).toBe(undefined));
  });

  describeBucketConformance({ describe, it: (name, body, timeout) => it(name, () => inEnvironment(async () => body()), timeout), expect }, {
    name: 'S3Bucket',
    createBucket: bucket,
  });

  describeStoreConformance({ describe, it: (name, body, timeout) => it(name, () => inEnvironment(async () => body()), timeout), expect }, {
    name: 'S3Store (full)',
    createStore: () => {
      const key = `checkpointer-tests/${randomUUID()}/checkpoint.json`;
      return { create: () => new S3Store({ bucket: bucketName!, key, durability: 'full' }) };
    },
    volume: 300,
  });
});
