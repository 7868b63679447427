import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findCheckpointKeys } from '../../src/cli/object-target.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { jsonFormat } from '../../src/stores/file/snapshot-formats.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from '../../src/stores/object/bucket.js';
import { MemoryBucket } from '../../src/stores/object/memory-bucket.js';
import { ObjectStore } from '../../src/stores/object/object-store.js';

/** A bucket that refuses whole reads of the keys given and counts the bytes read in all. */
class WatchedBucket implements ObjectBucket {
  bytesRead = 0;
  constructor(
    readonly inner: MemoryBucket,
    readonly noWholeReads: ReadonlySet<string>,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  async get(key: string): Promise<StoredObject | undefined> {
    if (this.noWholeReads.has(key)) throw new Error(`${key} was read whole`);
    const read = await this.inner.get(key);
    this.bytesRead += read?.body.byteLength ?? 0;
    return read;
  }
  async getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    const read = await this.inner.getStart(key, length);
    this.bytesRead += read?.byteLength ?? 0;
    return read;
  }
  create = (key: string, body: Uint8Array) => this.inner.create(key, body);
  replace = (key: string, body: Uint8Array, version: string) => this.inner.replace(key, body, version);
  delete = (key: string, version?: string) => this.inner.delete(key, version);
  list = (prefix: string): Promise<ObjectEntry[]> => this.inner.list(prefix);
}

const bytes = (text: string): Uint8Array => Buffer.from(text);

/** A checkpoint written by the library into `bucket` at `key`, compacted so that its snapshot and backup exist. */
async function makeCheckpoint(bucket: ObjectBucket, key: string): Promise<void> {
  const manager = await CheckpointManager.open({ store: new ObjectStore(bucket, key, jsonFormat, {}), pipeline: 'p' });
  await manager.markItemCompleted('step', 'a');
  await manager.close();
}

describe('listing the checkpoints in a bucket', () => {
  it("reads only the first bytes of a person's large objects, so a huge export with a .bak does not stop it", async () => {
    const memory = new MemoryBucket();
    await makeCheckpoint(memory, 'runs/1/checkpoint.json');
    const big = Buffer.alloc(32 * 1024 * 1024, ' ');
    big.write('{"rows": [', 0);
    big.write(']}', big.length - 2);
    await memory.create('runs/2/export.json', big);
    await memory.create('runs/2/export.json.bak', big);
    const bucket = new WatchedBucket(memory, new Set(['runs/2/export.json', 'runs/2/export.json.bak']));
    expect(await findCheckpointKeys(bucket, 'runs/')).toEqual(['runs/1/checkpoint.json']);
    expect(bucket.bytesRead).toBeLessThan(1024 * 1024);
  });

  it('does not list an unreadable object on the word of a backup that has a checksum line but is no checkpoint', async () => {
    const memory = new MemoryBucket();
    // The checksum line is computed as the library computes it: only what follows it tells this is no checkpoint.
    const rest = '{\n  "rows": [1, 2, 3]\n}\n';
    const lookalike = `{\n  "checksum": "crc32:${crc32(Buffer.from(rest)).toString(16).padStart(8, '0')}",\n${rest.slice(2)}`;
    expect(jsonFormat.findChecksum(lookalike)).toBeDefined();
    await memory.create('runs/data.json', bytes('{"broken'));
    await memory.create('runs/data.json.bak', bytes(lookalike));
    await memory.create('runs/alone.json.bak', bytes(lookalike));
    expect(await findCheckpointKeys(memory, 'runs/')).toEqual([]);
  });

  it('lists a large damaged checkpoint by its first bytes, without reading it whole', async () => {
    const memory = new MemoryBucket();
    await makeCheckpoint(memory, 'runs/c.json');
    const snapshot = (await memory.get('runs/c.json'))!;
    await memory.create('runs/c.json.bak', snapshot.body);
    // Its tail damaged: two megabytes of zeros where the document ended.
    const damaged = Buffer.concat([Buffer.from(snapshot.body).subarray(0, 40), Buffer.alloc(2 * 1024 * 1024)]);
    expect(await memory.replace('runs/c.json', damaged, snapshot.version)).toBeDefined();
    const bucket = new WatchedBucket(memory, new Set(['runs/c.json', 'runs/c.json.bak']));
    expect(await findCheckpointKeys(bucket, 'runs/')).toEqual(['runs/c.json']);
  });

  it('does not list a large document of another kind beside a backup the library wrote', async () => {
    const memory = new MemoryBucket();
    await makeCheckpoint(memory, 'runs/c.json');
    const snapshot = (await memory.get('runs/c.json'))!;
    await memory.create('runs/report.json.bak', snapshot.body);
    const report = Buffer.alloc(2 * 1024 * 1024, ' ');
    report.write('{"rows": [', 0);
    report.write(']}', report.length - 2);
    await memory.create('runs/report.json', report);
    expect(await findCheckpointKeys(new WatchedBucket(memory, new Set(['runs/report.json'])), 'runs/')).toEqual(['runs/c.json']);
  });

  it("does not list an object that only has a segment's name, nor a completed checkpoint's late segments", async () => {
    const memory = new MemoryBucket();
    await memory.create('runs/data.json', bytes('{"rows": []}'));
    await memory.create('runs/data.json.segments/0000000001-000000000000001-000000000000001', bytes('garbage'));
    await memory.create('runs/alone.json.segments/0000000001-000000000000001-000000000000001', bytes('garbage'));
    // A checkpoint completed (removed), with a segment a holder that had lost its lease wrote afterwards.
    const stale = await CheckpointManager.open({ store: new ObjectStore(memory, 'runs/done.json', jsonFormat, { durability: 'full' }), pipeline: 'p' });
    await stale.markItemCompleted('step', 'a');
    const segment = (await memory.list('runs/done.json.segments/'))[0]!;
    const late = (await memory.get(segment.key))!.body;
    await stale.complete();
    await memory.create(segment.key.replace(/-\d{15}-\d{15}$/, '-000000000000009-000000000000009'), late);
    expect(await findCheckpointKeys(memory, 'runs/')).toEqual([]);
    // A real segment left alone (its snapshot and backup gone, no removal) is a damaged checkpoint to list.
    await makeCheckpoint(memory, 'runs/lost.json');
    await memory.create('runs/lost.json.segments/0000000009-000000000000009-000000000000009', late);
    await memory.delete('runs/lost.json');
    await memory.delete('runs/lost.json.bak');
    expect(await findCheckpointKeys(memory, 'runs/')).toEqual(['runs/lost.json']);
  });

  it("reads only the first bytes of a huge object at a lease's name", async () => {
    const memory = new MemoryBucket();
    await makeCheckpoint(memory, 'runs/c.json');
    await memory.delete('runs/c.json.lease');
    await memory.create('runs/c.json.lease', Buffer.alloc(32 * 1024 * 1024, '1'));
    const bucket = new WatchedBucket(memory, new Set(['runs/c.json.lease']));
    await findCheckpointKeys(bucket, 'runs/');
    expect(bucket.bytesRead).toBeLessThan(1024 * 1024);
  });
});
