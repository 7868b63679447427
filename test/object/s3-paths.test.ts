import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { S3Store } from '../../src/stores/object/s3-store.js';
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

/** What a user sets to reach an S3-compatible server: no code. */
const environment = (endpoint: string) => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_S3_FORCE_PATH_STYLE: 'true', AWS_PROFILE: undefined });

describe('s3:// paths', () => {
  it('open a checkpoint in a bucket, resumable, with a readable snapshot object', async () => {
    const started = Date.now();
    const bucket = await s3rver.createBucket();
    const path = `s3://${bucket}/runs/42/checkpoint.json`;
    await withEnv(environment(proxy.endpoint), async () => {
      const cp = await CheckpointManager.open({ path, pipeline: 'train', durability: 'full' });
      expect(cp.location).toBe(path);
      await cp.markItemCompleted('embed', 'doc-1');
      await cp.close();
      const again = await CheckpointManager.open({ path, pipeline: 'train' });
      expect(again.isItemCompleted('embed', 'doc-1')).toBe(true);
      await again.close();
    });
    const snapshot = await s3rver.client().send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/42/checkpoint.json' }));
    const document = JSON.parse(await snapshot.Body!.transformToString()) as { epoch: number; steps: Record<string, { completedItems: string[] }> };
    // The second holder's: above the first's, which was at least the clock's seconds.
    expect(document.epoch).toBeGreaterThanOrEqual(Math.floor(started / 1000) + 1);
    expect(document.steps.embed!.completedItems).toEqual(['doc-1']);
  });

  it('refuse s3rver, which ignores conditional writes, before anything is written', async () => {
    const bucket = await s3rver.createBucket();
    await withEnv(environment(s3rver.endpoint), async () => {
      const error = await CheckpointManager.open({ path: `s3://${bucket}/runs/checkpoint.json`, pipeline: 'train' }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(new RegExp(`^s3://${bucket}: the S3 endpoint ${s3rver.endpoint} does not enforce conditional writes .* pass unsafeSkipFencingProbe: true to S3Store$`));
    });
    expect((await s3rver.client().send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).toEqual([]);
  });

  it('S3Store checks its options, naming the wrong one', async () => {
    expect(() => new S3Store({ bucket: 'runs', key: 'c.json', lock: false } as never)).toThrow(/Expected no `lock` together with `S3Store`.*apply to checkpoint files only; S3Store takes/);
    expect(() => new S3Store({ bucket: 'runs', key: 'c.json', leaseTtlMs: 50 })).toThrow(/Expected `leaseTtlMs` to be/);
    expect(() => new S3Store({ key: 'c.json' } as never)).toThrow(/Expected `bucket` to be an S3 bucket name/);
    expect(() => new S3Store({ bucket: 'Bad_Bucket', key: 'c.json' })).toThrow(/Expected `bucket` to be an S3 bucket name/);
    expect(() => new S3Store({ bucket: 'runs', key: 'notes.txt' })).toThrow(/Expected `key` to be an object key ending in \.json, \.yaml or \.yml, without empty, "\." or "\.\." path segments \(nor a leading "\/"\), backslashes or control characters, got `"notes.txt"`/);
    expect(() => new S3Store({ bucket: 'runs', key: 'c.json', client: {} as never })).toThrow(/Expected `client` to be an S3Client/);
    expect(() => new S3Store({ bucket: 'runs', key: 'c.json', unsafeSkipFencingProbe: 'yes' as never })).toThrow(/Expected `unsafeSkipFencingProbe` to be a boolean/);
    await expect(CheckpointManager.open({ path: 's3://runs/c.json', backups: 2 })).rejects.toThrow(/apply to checkpoint files only/);
  });

  it('without @aws-sdk/client-s3, an s3:// path says to install it', () => {
    const script = fileURLToPath(new URL('./without-s3-or-gcs.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, 's3://runs/train/checkpoint.json'], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const reported = JSON.parse(child.stdout.trim()) as { code: string; message: string };
    expect(reported.code).toBe('CHECKPOINT_STORE');
    expect(reported.message).toBe('s3://runs: the "@aws-sdk/client-s3" package is not installed — install @aws-sdk/client-s3 to use s3:// paths: npm install @aws-sdk/client-s3');
  });
});
