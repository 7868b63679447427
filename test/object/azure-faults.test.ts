import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import { AzureBucket } from '../../src/stores/object/azure-bucket.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';
import { startFaultyProxy, type Fault, type FaultyProxy } from '../support/faulty-proxy.js';

// Azurite behind a proxy that answers 503 Server Busy, cuts connections before a request reaches
// the server, and cuts them after it was carried out (the client cannot know its write landed).
let azurite: AzuriteServer;
let proxy: FaultyProxy;
let throughProxy: string;
beforeAll(async () => {
  azurite = await startAzurite();
  const endpoint = /BlobEndpoint=(http:\/\/[^/]+)\//.exec(azurite.connectionString)![1]!;
  proxy = await startFaultyProxy(endpoint);
  throughProxy = azurite.connectionString.replace(endpoint, proxy.endpoint);
});
// A test that fails midway must not leave its faults to the next one.
afterEach(() => proxy.clear());
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});

const totalFailed = (): number => Object.values(proxy.failed).reduce((sum, count) => sum + count, 0);
const bytes = (text: string): Uint8Array => Buffer.from(text);
const quiet = { warn: () => {}, error: () => {} };
const flaky = (): BlobServiceClient => BlobServiceClient.fromConnectionString(throughProxy, { retryOptions: { maxTries: 8, retryDelayInMs: 10, maxRetryDelayInMs: 50 } });
const direct = (): BlobServiceClient => BlobServiceClient.fromConnectionString(azurite.connectionString);

/**
 * A seeded sequence of what happens to the next requests, so that a failing run can be run again
 * as it was: `faults` faults, each request failed with a chance of one in four, never more than
 * three in a row (the client's retries outlast those).
 */
function faultsFor(seed: number, faults: number): Fault[] {
  let state = seed;
  const next = (): number => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const kinds: Fault[] = [503, 'drop', 'drop-after'];
  const sequence: Fault[] = [];
  for (let failed = 0, inARow = 0; failed < faults; ) {
    if (inARow < 3 && next() < 0.25) {
      sequence.push(kinds[Math.floor(next() * kinds.length)]!);
      failed++;
      inARow++;
    } else {
      sequence.push('pass');
      inARow = 0;
    }
  }
  return sequence;
}

describe('AzureBucket and AzureBlobStore on a flaky network', () => {
  it('retry 503s and dropped connections, and a write writes once', async () => {
    const container = await azurite.createContainer();
    const bucket = new AzureBucket({ container, client: flaky() });
    await bucket.get('warm-up.json');
    proxy.failNext([503, 503, 'drop'], ['PUT']);
    const version = await bucket.create('runs/a.json', bytes('first'));
    expect(proxy.pending).toBe(0);
    expect(version).toBe((await bucket.get('runs/a.json'))?.version);
    proxy.failNext(['drop', 503], ['PUT']);
    const replaced = await bucket.replace('runs/a.json', bytes('second'), version!);
    expect(replaced).toBe((await new AzureBucket({ container, client: direct() }).get('runs/a.json'))?.version);
  });

  it('a create whose answer was lost reads as a lost condition to the bucket, and the store still counts its own write', async () => {
    const container = await azurite.createContainer();
    const bucket = new AzureBucket({ container, client: flaky() });
    await bucket.get('warm-up.json');
    proxy.failNext(['drop-after'], ['PUT']);
    // The blob landed; the retry is refused as "already exists": the bucket cannot tell it was its own.
    expect(await bucket.create('runs/a.json', bytes('mine'))).toBe(undefined);
    expect(Buffer.from((await bucket.get('runs/a.json'))!.body).toString()).toBe('mine');

    const store = new AzureBlobStore({ container, key: 'runs/checkpoint.json', client: flaky(), durability: 'full' });
    const cp = await CheckpointManager.open({ store, pipeline: 'p', logger: quiet });
    proxy.failNext(['drop-after', 'drop-after'], ['PUT']);
    await cp.markItemCompleted('s', 'a');
    await cp.markItemCompleted('s', 'b');
    expect(proxy.pending).toBe(0);
    await cp.close();
    const again = await CheckpointManager.open({ store: new AzureBlobStore({ container, key: 'runs/checkpoint.json', client: direct() }), pipeline: 'p', logger: quiet });
    expect([again.isItemCompleted('s', 'a'), again.isItemCompleted('s', 'b')]).toEqual([true, true]);
    await again.close();
  });

  it('a run through up to 60 faults (503, dropped before and after the server) keeps every acknowledged mark, in every mode', async () => {
    for (const [index, durability] of (['full', 'normal', 'batched'] as const).entries()) {
      const container = await azurite.createContainer();
      const key = 'runs/checkpoint.json';
      const store = new AzureBlobStore({ container, key, client: flaky(), durability, batchSize: 7, batchIntervalMs: 20, maxSegments: 5 });
      const cp = await CheckpointManager.open({ store, pipeline: 'p', logger: quiet });
      const failedBefore = totalFailed();
      proxy.failNext(faultsFor(100 + index, 60));
      const acknowledged: string[] = [];
      const items = Array.from({ length: 150 }, (_, n) => `item-${n}`);
      for (let start = 0; start < items.length; start += 4) {
        await Promise.all(items.slice(start, start + 4).map(async (item) => {
          await cp.markItemCompleted('s', item);
          acknowledged.push(item);
        }));
      }
      await cp.close();
      expect(acknowledged).toHaveLength(items.length);
      const reopened = await CheckpointManager.open({ store: new AzureBlobStore({ container, key, client: direct() }), pipeline: 'p', logger: quiet });
      expect(acknowledged.filter((item) => !reopened.isItemCompleted('s', item))).toEqual([]);
      await reopened.close();
      // The run met its faults (a group commit makes fewer requests than there are marks).
      expect(totalFailed() - failedBefore).toBeGreaterThanOrEqual(10);
      proxy.clear();
    }
    expect(proxy.failed['drop-after']).toBeGreaterThan(0);
  });

  it('what still fails after the retries is a CheckpointStoreError naming the object, and the mark is not acknowledged', async () => {
    const container = await azurite.createContainer();
    const key = 'runs/checkpoint.json';
    const client = BlobServiceClient.fromConnectionString(throughProxy, { retryOptions: { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 } });
    const cp = await CheckpointManager.open({ store: new AzureBlobStore({ container, key, client, durability: 'full' }), pipeline: 'p', logger: quiet });
    await cp.markItemCompleted('s', 'before');
    proxy.failNext([503, 503], ['PUT']);
    const error = await cp.markItemCompleted('s', 'lost').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(new RegExp(`^az://${container}/runs/checkpoint\\.json: could not write the segment .*could not write it`));
    await cp.close().catch(() => {});
    const reopened = await CheckpointManager.open({ store: new AzureBlobStore({ container, key, client: direct() }), pipeline: 'p', logger: quiet });
    expect(reopened.isItemCompleted('s', 'before')).toBe(true);
    expect(reopened.isItemCompleted('s', 'lost')).toBe(false);
    await reopened.close();
  });
});
