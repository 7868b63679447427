import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { forcePathStyleFromEnv, S3Bucket } from '../../src/stores/object/s3-bucket.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';
import { startConditionsProxy, type ConditionsProxy } from '../support/s3-conditions-proxy.js';
import { startS3rver, type S3rverServer } from '../support/s3rver.js';
import { withEnv } from '../support/with-env.js';

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

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A client of the proxy: s3rver's data path with S3's conditions enforced. */
const enforcing = (maxAttempts = 3) => s3rver.client(maxAttempts, proxy.endpoint);

describeBucketConformance({ describe, it, expect }, {
  name: "S3Bucket on s3rver, behind a proxy enforcing S3's conditions",
  createBucket: async () => new S3Bucket({ bucket: await s3rver.createBucket(), client: enforcing() }),
});

describe('S3Bucket fencing probe', () => {
  it('refuses s3rver, which ignores conditions, naming the endpoint and what it let through, and leaves no probe behind', async () => {
    const bucket = await s3rver.createBucket();
    const error = await new S3Bucket({ bucket, client: s3rver.client(), probePrefix: 'runs/c.json' }).get('runs/c.json').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toBe(
      `s3://${bucket}: the S3 endpoint ${s3rver.endpoint} does not enforce conditional writes (a PUT with If-None-Match: * overwrote an existing object; a PUT with an If-Match of a wrong ETag was accepted): ` +
        "two processes could both write this checkpoint and lose each other's marks — use a server that enforces them (AWS S3, MinIO), or, only if you make sure yourself that one process at a time writes it, pass unsafeSkipFencingProbe: true to S3Store",
    );
    const left = await s3rver.client().send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('refuses every call while the server ignores conditions, not only the first', async () => {
    const bucket = new S3Bucket({ bucket: await s3rver.createBucket(), client: s3rver.client() });
    await expect(bucket.get('a.json')).rejects.toThrow(/does not enforce conditional writes/);
    await expect(bucket.create('a.json', bytes('x'))).rejects.toThrow(/does not enforce conditional writes/);
  });

  it('passes a server that enforces them, beside the checkpoint, with three writes and a delete', async () => {
    const bucket = await s3rver.createBucket();
    const before = proxy.forwarded.length;
    await new S3Bucket({ bucket, client: enforcing(), probePrefix: 'runs/c.json' }).get('runs/c.json');
    const probe = proxy.forwarded.slice(before).filter((request) => request.includes('.conditions-probe-'));
    expect(probe.map((request) => request.split(' ')[0])).toEqual(['PUT', 'DELETE']);
    expect(probe[0]).toMatch(new RegExp(`^PUT /${bucket}/runs/c\\.json\\.conditions-probe-[0-9a-f-]{36}`));
    expect((await s3rver.client().send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).toEqual([]);
  });

  it('with unsafeSkipFencingProbe, uses s3rver for the data path', async () => {
    const bucket = new S3Bucket({ bucket: await s3rver.createBucket(), client: s3rver.client(), unsafeSkipFencingProbe: true });
    const version = await bucket.create('runs/a.json', bytes('first'));
    expect(await bucket.get('runs/a.json')).toEqual({ body: bytes('first'), version });
    expect((await bucket.list('runs/')).map((entry) => entry.key)).toEqual(['runs/a.json']);
    await bucket.delete('runs/a.json');
    expect(await bucket.get('runs/a.json')).toBe(undefined);
  });
});

describe('S3Bucket', () => {
  it('retries 503 SlowDown and dropped connections, and writes once', async () => {
    const name = await s3rver.createBucket();
    const bucket = new S3Bucket({ bucket: name, client: enforcing(8) });
    await bucket.get('warm-up.json');
    const before = proxy.forwarded.length;
    proxy.failNext(2, 503);
    proxy.failNext(1, 0);
    const version = await bucket.create('runs/a.json', bytes('first'));
    expect(typeof version).toBe('string');
    expect(proxy.forwarded.slice(before)).toEqual([`PUT /${name}/runs/a.json?x-id=PutObject`]);
    expect((await bucket.get('runs/a.json'))?.version).toBe(version);
  });

  it('throws what still fails after the retries as a CheckpointStoreError naming the object, acknowledging nothing', async () => {
    const name = await s3rver.createBucket();
    const bucket = new S3Bucket({ bucket: name, client: enforcing(2) });
    await bucket.get('warm-up.json');
    proxy.failNext(2, 503);
    const error = await bucket.create('runs/a.json', bytes('x')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(new RegExp(`^s3://${name}/runs/a\\.json: could not write it: `));
    expect(await bucket.get('runs/a.json')).toBe(undefined);
  });

  it('names the object and says to create a missing bucket', async () => {
    const bucket = new S3Bucket({ bucket: 'missing-bucket', client: s3rver.client(), unsafeSkipFencingProbe: true });
    for (const call of [() => bucket.get('runs/a.json'), () => bucket.create('runs/a.json', bytes('x')), () => bucket.list('runs/')]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(/s3:\/\/missing-bucket\/runs\/.*create the bucket "missing-bucket" first/);
    }
  });

  it("takes endpoint, region, credentials and path style from the SDK's environment variables", async () => {
    const name = await s3rver.createBucket();
    const env = { AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_S3_FORCE_PATH_STYLE: 'true', AWS_PROFILE: undefined };
    await withEnv(env, async () => {
      const bucket = new S3Bucket({ bucket: name });
      expect(typeof (await bucket.create('a.json', bytes('x')))).toBe('string');
    });
    expect(proxy.forwarded.at(-1)).toBe(`PUT /${name}/a.json?x-id=PutObject`);
    for (const [value, pathStyle] of [['true', true], ['1', true], ['TRUE', true], ['false', false], [undefined, false]] as const) {
      await withEnv({ AWS_S3_FORCE_PATH_STYLE: value }, async () => expect(forcePathStyleFromEnv()).toBe(pathStyle));
    }
  });

  it('says to set AWS_REGION when no region is configured', async () => {
    await withEnv({ AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: '/nonexistent', AWS_ENDPOINT_URL_S3: proxy.endpoint }, async () => {
      await expect(new S3Bucket({ bucket: 'any-bucket' }).get('a.json')).rejects.toThrow(/^s3:\/\/any-bucket\/.*: could not .*Region is missing — set AWS_REGION$/);
    });
  });

  it('reads an object written by another client, with its version', async () => {
    const name = await s3rver.createBucket();
    const written = await s3rver.client().send(new PutObjectCommand({ Bucket: name, Key: 'runs/a.json', Body: 'outside' }));
    const read = await new S3Bucket({ bucket: name, client: enforcing() }).get('runs/a.json');
    expect(new TextDecoder().decode(read!.body)).toBe('outside');
    expect(`"${read!.version}"`).toBe(written.ETag);
  });
});
