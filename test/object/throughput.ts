/**
 * `npm run bench:object`: marks per second into an az:// checkpoint on a local Azurite server, per
 * durability mode, against what seed 002 does — one PUT of the whole JSON document per mark —
 * measured in the same run against the same server, with the requests each made.
 *   --marks <n>  marks per measurement (default 2000)
 */
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { jsonFormat } from '../../src/stores/file/snapshot-formats.js';
import { AzureBucket } from '../../src/stores/object/azure-bucket.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from '../../src/stores/object/bucket.js';
import { ObjectStore } from '../../src/stores/object/object-store.js';
import type { ObjectStoreOptions } from '../../src/stores/object/object-store-options.js';
import { startAzurite } from '../support/azurite.js';

const { values } = parseArgs({ options: { marks: { type: 'string', default: '2000' } } });
const marks = Number(values.marks);

/** Counts the writes (create, replace, delete) and the other requests a store makes. */
class CountingBucket implements ObjectBucket {
  writes = 0;
  others = 0;
  constructor(private readonly inner: ObjectBucket) {}
  get location(): string {
    return this.inner.location;
  }
  get(key: string): Promise<StoredObject | undefined> {
    this.others++;
    return this.inner.get(key);
  }
  create(key: string, body: Uint8Array): Promise<string | undefined> {
    this.writes++;
    return this.inner.create(key, body);
  }
  replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    this.writes++;
    return this.inner.replace(key, body, version);
  }
  delete(key: string, version?: string): Promise<void> {
    this.writes++;
    return this.inner.delete(key, version);
  }
  list(prefix: string): Promise<ObjectEntry[]> {
    this.others++;
    return this.inner.list(prefix);
  }
}

const azurite = await startAzurite();
const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
const rows: string[] = [];
const row = (name: string, seconds: number, requests: string): void => {
  rows.push(`${name.padEnd(34)} ${String(Math.round(marks / seconds)).padStart(8)} marks/s   ${requests}`);
};

try {
  for (const [name, options, concurrency] of [
    ['full, 1 mark in flight', { durability: 'full' }, 1],
    ['full, 16 marks in flight', { durability: 'full' }, 16],
    ['normal (flush every 1 s)', { durability: 'normal' }, 1],
    ['batched (100 marks)', { durability: 'batched' }, 1],
  ] as [string, ObjectStoreOptions, number][]) {
    const bucket = new CountingBucket(new AzureBucket({ container: await azurite.createContainer(), client }));
    const cp = await CheckpointManager.open({ store: new ObjectStore(bucket, 'bench/checkpoint.json', jsonFormat, options), pipeline: 'bench' });
    const [writesBefore, othersBefore] = [bucket.writes, bucket.others];
    const started = performance.now();
    const queue = Array.from({ length: marks }, (_, n) => `item-${n}`);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let key = queue.shift(); key; key = queue.shift()) await cp.markItemCompleted('s', key);
    }));
    await cp.close();
    const seconds = (performance.now() - started) / 1000;
    row(name, seconds, `${((bucket.writes - writesBefore) / marks).toFixed(3)} writes/mark, ${bucket.others - othersBefore} other requests (marks and close)`);
  }

  // Seed 002: the whole document rewritten with one PUT after every mark.
  const container = client.getContainerClient(await azurite.createContainer());
  const blob = container.getBlockBlobClient('bench/checkpoint.json');
  const completed: string[] = [];
  const started = performance.now();
  for (let n = 0; n < marks; n++) {
    completed.push(`item-${n}`);
    const body = Buffer.from(JSON.stringify({ steps: { s: { completedItems: completed } }, updatedAt: new Date().toISOString() }, null, 2));
    await blob.upload(body, body.length);
  }
  row('one PUT of the document per mark', (performance.now() - started) / 1000, '1 write/mark, uploading the whole document each time');
} finally {
  await azurite.stop();
}
console.log(`Azurite on 127.0.0.1, ${marks} marks each:\n${rows.join('\n')}`);
