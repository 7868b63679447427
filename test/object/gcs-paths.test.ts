import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { GcsStore } from '../../src/stores/object/gcs-store.js';
import { startFakeGcsServer, type FakeGcsServer } from '../support/fake-gcs-server.js';
import { withEnv } from '../support/with-env.js';

let gcs: FakeGcsServer;
beforeAll(async () => {
  gcs = await startFakeGcsServer();
});
afterAll(async () => {
  await gcs?.stop();
});

describe('gs:// paths', () => {
  it('open a checkpoint in a bucket through STORAGE_EMULATOR_HOST, resumable, with a readable snapshot object', async () => {
    const started = Date.now();
    const bucket = `b${randomUUID().replaceAll('-', '')}`;
    gcs.createBucket(bucket);
    const path = `gs://${bucket}/runs/42/checkpoint.json`;
    await withEnv({ STORAGE_EMULATOR_HOST: gcs.endpoint, GOOGLE_CLOUD_PROJECT: 'test' }, async () => {
      const cp = await CheckpointManager.open({ path, pipeline: 'train', durability: 'full' });
      expect(cp.location).toBe(path);
      await cp.markItemCompleted('embed', 'doc-1');
      await cp.close();
      const again = await CheckpointManager.open({ path, pipeline: 'train' });
      expect(again.isItemCompleted('embed', 'doc-1')).toBe(true);
      await again.close();
    });
    const snapshot = await fetch(`${gcs.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent('runs/42/checkpoint.json')}?alt=media`);
    const document = (await snapshot.json()) as { epoch: number; steps: Record<string, { completedItems: string[] }> };
    // The second holder's: above the first's, which was at least the clock's seconds.
    expect(document.epoch).toBeGreaterThanOrEqual(Math.floor(started / 1000) + 1);
    expect(document.steps.embed!.completedItems).toEqual(['doc-1']);
  });

  it('GcsStore checks its options, naming the wrong one', async () => {
    expect(() => new GcsStore({ bucket: 'runs', key: 'c.json', leaseTtlMs: 50 })).toThrow(/Expected `leaseTtlMs` to be/);
    expect(() => new GcsStore({ key: 'c.json' } as never)).toThrow(/Expected `bucket` to be a GCS bucket name/);
    expect(() => new GcsStore({ bucket: 'Bad Bucket', key: 'c.json' })).toThrow(/Expected `bucket` to be a GCS bucket name/);
    expect(() => new GcsStore({ bucket: 'runs', key: 'notes.txt' })).toThrow(/Expected `key` to be an object name ending in \.json, \.yaml or \.yml, without empty, "\." or "\.\." path segments \(nor a leading "\/"\), backslashes or control characters, got `"notes.txt"`/);
    expect(() => new GcsStore({ bucket: 'runs', key: 'c.json', storage: {} as never })).toThrow(/Expected `storage` to be a Storage from @google-cloud\/storage/);
    expect(() => new GcsStore({ bucket: 'runs', key: 'c.json', backups: 3 } as never)).toThrow(/Expected no `backups` together with `GcsStore`.*apply to checkpoint files only; GcsStore takes/);
    await expect(CheckpointManager.open({ path: 'gs://runs/c.json', fsyncIntervalMs: 5 })).rejects.toThrow(/apply to checkpoint files only/);
  });

  it('without @google-cloud/storage, a gs:// path says to install it', () => {
    const script = fileURLToPath(new URL('./without-s3-or-gcs.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, 'gs://runs/train/checkpoint.json'], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const reported = JSON.parse(child.stdout.trim()) as { code: string; message: string };
    expect(reported.code).toBe('CHECKPOINT_STORE');
    expect(reported.message).toBe('gs://runs: the "@google-cloud/storage" package is not installed — install @google-cloud/storage to use gs:// paths: npm install @google-cloud/storage');
  });
});
