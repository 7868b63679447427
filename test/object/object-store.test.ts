import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointCorruptError, CheckpointLockedError, CheckpointLockLostError, CheckpointStoreError } from '../../src/core/errors.js';
import type { RecoveredEvent } from '../../src/core/events.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { jsonFormat } from '../../src/stores/file/snapshot-formats.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from '../../src/stores/object/bucket.js';
import { MemoryBucket } from '../../src/stores/object/memory-bucket.js';
import { ObjectStore } from '../../src/stores/object/object-store.js';
import type { ObjectStoreOptions } from '../../src/stores/object/object-store-options.js';

const KEY = 'runs/42/checkpoint.json';
const managers: CheckpointManager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close().catch(() => {});
});

async function open(bucket: ObjectBucket, options: ObjectStoreOptions = {}, on: { recovered?: (event: RecoveredEvent) => void } = {}): Promise<CheckpointManager> {
  const manager = await CheckpointManager.open({ store: new ObjectStore(bucket, KEY, jsonFormat, options), pipeline: 'p', on, logger: { warn: () => {}, error: () => {} } });
  managers.push(manager);
  return manager;
}

const keysOf = async (bucket: ObjectBucket, prefix = ''): Promise<string[]> => (await bucket.list(prefix)).map((entry) => entry.key);
const text = (value: StoredObject | undefined): string => Buffer.from(value!.body).toString('utf8');

/** Counts the requests a store makes, by kind and key; `create` can be replaced to inject faults. */
class CountingBucket implements ObjectBucket {
  readonly calls: string[] = [];
  constructor(
    readonly inner: ObjectBucket,
    readonly onCreate: (key: string, body: Uint8Array) => Promise<string | undefined> = (key, body) => inner.create(key, body),
  ) {}
  get location(): string {
    return this.inner.location;
  }
  get(key: string): Promise<StoredObject | undefined> {
    this.calls.push(`get ${key}`);
    return this.inner.get(key);
  }
  create(key: string, body: Uint8Array): Promise<string | undefined> {
    this.calls.push(`create ${key}`);
    return this.onCreate(key, body);
  }
  replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    this.calls.push(`replace ${key}`);
    return this.inner.replace(key, body, version);
  }
  delete(key: string, version?: string): Promise<void> {
    this.calls.push(`delete ${key}`);
    return this.inner.delete(key, version);
  }
  list(prefix: string): Promise<ObjectEntry[]> {
    this.calls.push(`list ${prefix}`);
    return this.inner.list(prefix);
  }
  count(pattern: RegExp): number {
    return this.calls.filter((call) => pattern.test(call)).length;
  }
}

/** Lets a test pretend the lease ran out, as it would after the holder froze past its time to live. */
async function expireLease(bucket: ObjectBucket): Promise<void> {
  // A renewal that was already on its way may replace the lease between the read and the write: read again then.
  for (;;) {
    const lease = (await bucket.get(`${KEY}.lease`))!;
    const body = JSON.parse(text(lease)) as { expiresAt: string };
    body.expiresAt = new Date(0).toISOString();
    if ((await bucket.replace(`${KEY}.lease`, Buffer.from(JSON.stringify(body)), lease.version)) !== undefined) return;
  }
}

/**
 * `bucket` as a holder sees it whose lease renewals wait while held (a holder frozen at its
 * renewal), so that it writes on before it can notice that another process took the lease over.
 */
function heldRenewals(bucket: MemoryBucket): { bucket: ObjectBucket; hold(): void; release(): void; created(): Promise<void> } {
  let gate: Promise<void> | undefined;
  let open = (): void => {};
  let onCreated = (): void => {};
  return {
    bucket: {
      location: bucket.location,
      get: (key) => bucket.get(key),
      create: (key, body) => bucket.create(key, body).finally(() => onCreated()),
      replace: async (key, body, version) => {
        if (key.endsWith('.lease')) await gate;
        return bucket.replace(key, body, version);
      },
      delete: (key, version) => bucket.delete(key, version),
      list: (prefix) => bucket.list(prefix),
    },
    hold: () => void (gate = new Promise((resolve) => (open = resolve))),
    release: () => open(),
    created: () => new Promise((resolve) => (onCreated = resolve)),
  };
}

/**
 * A mark of the replaced holder while its renewals are held: its segment is written, but the mark
 * may also wait for a renewal (one is due when a loaded machine delayed the timer) — so the
 * renewals are released once the segment is there, and the mark is awaited after.
 */
async function lateMark(stale: CheckpointManager, renewals: ReturnType<typeof heldRenewals>, key: string): Promise<void> {
  const written = renewals.created();
  const mark = stale.markItemCompleted('s', key).catch(() => {});
  await Promise.race([written, mark]);
  renewals.release();
  await mark;
}

/**
 * A checkpoint that a second holder completed (removed), beside which the first holder, replaced
 * before it noticed, then writes a late segment of `late`.
 */
async function removedWithLateSegment(): Promise<MemoryBucket> {
  const bucket = new MemoryBucket();
  const renewals = heldRenewals(bucket);
  const stale = await open(renewals.bucket, { durability: 'full', leaseRenewMs: 10, leaseTtlMs: 600_000 });
  await stale.markItemCompleted('s', 'before');
  renewals.hold();
  await expireLease(bucket);
  const next = await open(bucket, { durability: 'full' });
  await next.markItemCompleted('s', 'by-next');
  await next.complete();
  await lateMark(stale, renewals, 'late');
  return bucket;
}

describe('ObjectStore', () => {
  it('keeps the snapshot the readable document, and a mark as one line of a segment, not a rewrite', async () => {
    const bucket = new CountingBucket(new MemoryBucket());
    const started = Date.now();
    const cp = await open(bucket, { durability: 'full' });
    const before = bucket.count(/^(create|replace) runs\/42\/checkpoint\.json$/);
    for (let n = 0; n < 20; n++) await cp.markItemCompleted('s', `item-${n}`);
    // 20 marks, one after another: 20 segment creates and not one write of the document.
    expect(bucket.count(/^create runs\/42\/checkpoint\.json\.segments\//)).toBe(20);
    expect(bucket.count(/^(create|replace) runs\/42\/checkpoint\.json$/)).toBe(before);
    await cp.close();
    const snapshot = JSON.parse(text(await bucket.get(KEY))) as { checksum: string; epoch: number; sequence: number; steps: { s: { completedItems: string[] } } };
    expect(snapshot.checksum).toMatch(/^crc32:/);
    // An epoch is at least the clock's seconds when the lease was taken.
    expect(snapshot.epoch).toBeGreaterThanOrEqual(Math.floor(started / 1000));
    expect(snapshot.steps.s.completedItems).toHaveLength(20);
  });

  it('writes a snapshot that opens as a checkpoint file once downloaded', async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full' });
    await cp.markItemCompleted('s', 'a');
    await cp.markItemFailed('s', 'b', new Error('upstream refused'));
    await cp.close();
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-object-'));
    try {
      writeFileSync(join(directory, 'checkpoint.json'), (await bucket.get(KEY))!.body);
      const local = await CheckpointManager.open({ path: join(directory, 'checkpoint.json'), lock: false, pipeline: 'p' });
      expect(local.isItemCompleted('s', 'a')).toBe(true);
      expect(local.failedItems('s').map((item) => item.error?.message)).toEqual(['upstream refused']);
      await local.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('shares one segment among concurrent marks (group commit)', async () => {
    const bucket = new CountingBucket(new MemoryBucket());
    const cp = await open(bucket, { durability: 'full' });
    await Promise.all(Array.from({ length: 100 }, (_, n) => cp.markItemCompleted('s', `item-${n}`)));
    expect(bucket.count(/^create .*\.segments\//)).toBeLessThanOrEqual(2);
    const reopened = await reopen(cp, bucket);
    expect(Array.from({ length: 100 }, (_, n) => reopened.isItemCompleted('s', `item-${n}`)).every(Boolean)).toBe(true);
  });

  it('in batched mode writes a segment per batch, and a crash before one loses only that batch', async () => {
    const bucket = new CountingBucket(new MemoryBucket());
    const cp = await open(bucket, { durability: 'batched', batchSize: 10, batchIntervalMs: 600_000 });
    for (let n = 0; n < 25; n++) await cp.markItemCompleted('s', `item-${n}`);
    expect(bucket.count(/^create .*\.segments\//)).toBe(2);
    // A crash: the lease is left behind (expired here) and nothing is closed.
    await expireLease(bucket.inner);
    const after = await open(bucket.inner);
    const kept = Array.from({ length: 25 }, (_, n) => after.isItemCompleted('s', `item-${n}`));
    expect(kept.slice(0, 20).every(Boolean)).toBe(true);
    expect(kept.slice(20).some(Boolean)).toBe(false);
  });

  it('keeps epochs rising when the lease object was deleted by hand', async () => {
    const bucket = new MemoryBucket();
    for (let run = 1; run <= 3; run++) {
      const cp = await open(bucket, { durability: 'full' });
      await cp.markItemCompleted('s', `run-${run}`);
      await cp.close();
    }
    const epochOf = async (): Promise<number> => (JSON.parse(text(await bucket.get(KEY))) as { epoch: number }).epoch;
    const before = await epochOf();
    await bucket.delete(`${KEY}.lease`);
    const cp = await open(bucket, { durability: 'full' });
    expect(await epochOf()).toBeGreaterThan(before);
    expect([1, 2, 3].every((run) => cp.isItemCompleted('s', `run-${run}`))).toBe(true);
  });

  it('refuses a second writer while the lease is live, naming the holder', async () => {
    const bucket = new MemoryBucket();
    await open(bucket);
    const error = await open(bucket).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointLockedError);
    expect((error as CheckpointLockedError).pid).toBe(process.pid);
    expect((error as Error).message).toMatch(/memory:\/\/bucket\/runs\/42\/checkpoint\.json is locked by process \d+ on /);
    // What to do is what a bucket allows: it has no read-only open.
    expect((error as Error).message).toMatch(/a holder that stopped loses it at \d{4}-.*"checkpoint-resume status memory:\/\/bucket\/runs\/42\/checkpoint\.json" reads it meanwhile$/);
    expect((error as Error).message).not.toContain('lock: false');
  });

  it('never reads what a replaced holder writes late, and that holder acknowledges nothing more', async () => {
    const bucket = new MemoryBucket();
    const renewals = heldRenewals(bucket);
    const stale = await open(renewals.bucket, { durability: 'full', leaseRenewMs: 10, leaseTtlMs: 600_000 });
    const staleEpoch = String(JSON.parse(text(await bucket.get(`${KEY}.lease`))).epoch).padStart(10, '0');
    await stale.markItemCompleted('s', 'before');
    renewals.hold();
    await expireLease(bucket);
    const next = await open(bucket, { durability: 'full' });
    expect(next.isItemCompleted('s', 'before')).toBe(true);
    await next.markItemCompleted('s', 'by-next');
    // The stale holder cannot have noticed (its renewals wait): what it writes now must never be read.
    await lateMark(stale, renewals, 'late');
    const staleSegments = (await keysOf(bucket, `${KEY}.segments/`)).filter((key) => key.includes(`/${staleEpoch}-`));
    const written = await Promise.all(staleSegments.map(async (key) => text(await bucket.get(key))));
    expect(written.some((body) => body.includes('"late"'))).toBe(true);
    // Its next renewal finds the lease replaced: from then on every mark is refused.
    let attempt = 0;
    await expect.poll(async () => stale.markItemCompleted('s', `late-${++attempt}`).then(() => 'acknowledged', (error: unknown) => error), { timeout: 60_000 }).toBeInstanceOf(CheckpointLockLostError);
    await next.close();
    const third = await open(bucket);
    expect(third.isItemCompleted('s', 'before')).toBe(true);
    expect(third.isItemCompleted('s', 'by-next')).toBe(true);
    expect(third.isItemCompleted('s', 'late')).toBe(false);
    for (let n = 1; n <= attempt; n++) expect(third.isItemCompleted('s', `late-${n}`)).toBe(false);
  });

  /** A bucket whose checkpoint holds item-0…item-8 in a snapshot, its backup and segments, left by a holder whose lease ran out. */
  async function leftWithBackup(): Promise<MemoryBucket> {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full', maxSegments: 2 });
    for (let n = 0; n < 9; n++) await cp.markItemCompleted('s', `item-${n}`);
    await cp.flush();
    await expireLease(bucket);
    return bucket;
  }

  it('recovers a damaged snapshot from its backup without losing a change', async () => {
    const bucket = await leftWithBackup();
    const snapshot = (await bucket.get(KEY))!;
    // One digit changed: still valid JSON, caught by the checksum.
    await bucket.replace(KEY, Buffer.from(text(snapshot).replace('"item-1"', '"item-7"')), snapshot.version);
    const recovered: RecoveredEvent[] = [];
    const after = await open(bucket, {}, { recovered: (event) => recovered.push(event) });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.from).toBe(`memory://bucket/${KEY}.bak`);
    expect(recovered[0]!.problems[0]!.path).toBe('checksum');
    expect(Array.from({ length: 9 }, (_, n) => after.isItemCompleted('s', `item-${n}`)).every(Boolean)).toBe(true);
  });

  it('recovers a snapshot deleted by hand from its backup, as a file checkpoint does, and writes it anew', async () => {
    const bucket = await leftWithBackup();
    await bucket.delete(KEY);
    const recovered: RecoveredEvent[] = [];
    const after = await open(bucket, {}, { recovered: (event) => recovered.push(event) });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.problems[0]!.message).toMatch(/^missing, but its (segments are|backup is) still there$/);
    expect(Array.from({ length: 9 }, (_, n) => after.isItemCompleted('s', `item-${n}`)).every(Boolean)).toBe(true);
    // The open wrote the snapshot back: the next open needs no backup.
    await after.markItemCompleted('s', 'item-9');
    await after.close();
    expect(await bucket.get(KEY)).toBeDefined();
    const again: RecoveredEvent[] = [];
    const third = await open(bucket, {}, { recovered: (event) => again.push(event) });
    expect(again).toHaveLength(0);
    expect(third.isItemCompleted('s', 'item-9')).toBe(true);
  });

  it('refuses a damaged snapshot with no backup, naming it', async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket);
    await cp.close();
    const snapshot = (await bucket.get(KEY))!;
    await bucket.replace(KEY, Buffer.from(text(snapshot).slice(0, 40)), snapshot.version);
    const error = await open(bucket).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toContain(`memory://bucket/${KEY}: `);
    // Buckets have no numbered backups to restore: the hint says what they have.
    expect((error as Error).message).toContain("start over by opening it with { onCorrupt: 'restart' }");
    expect((error as Error).message).not.toContain('checkpoint-resume restore');
    // The failed open let go of its lease: a fixed checkpoint opens at once.
    await bucket.replace(KEY, snapshot.body, (await bucket.get(KEY))!.version);
    await open(bucket);
  });

  it('refuses a damaged segment, and a missing one, instead of skipping changes', async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full' });
    for (let n = 0; n < 3; n++) await cp.markItemCompleted('s', `item-${n}`);
    await expireLease(bucket);
    const [first, second] = await keysOf(bucket, `${KEY}.segments/`);
    const damaged = (await bucket.get(second!))!;
    await bucket.replace(second!, Buffer.from(text(damaged).replace('item-1', 'item-X')), damaged.version);
    await expect(open(bucket)).rejects.toThrow(/checkpoint\.json\.segments\/.*expected changes .*\(changed after it was written\) — start over by opening it with \{ onCorrupt: 'restart' \}/);
    await bucket.delete(second!);
    expect(first).toBeDefined();
    await expect(open(bucket)).rejects.toThrow(CheckpointCorruptError);
  });

  it("with onCorrupt: 'restart', keeps a damaged snapshot and backup aside and starts over, saying so", async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full', maxSegments: 1 });
    for (let n = 0; n < 3; n++) await cp.markItemCompleted('s', `item-${n}`);
    await cp.close();
    const damagedBodies = new Map<string, string>();
    for (const key of [KEY, `${KEY}.bak`]) {
      const found = (await bucket.get(key))!;
      await bucket.replace(key, Buffer.from(text(found).slice(0, 30)), found.version);
      damagedBodies.set(key, text(found).slice(0, 30));
    }
    await bucket.create('runs/42/notes.json', Buffer.from('{"mine": true}'));
    await expect(open(bucket)).rejects.toThrow(CheckpointCorruptError);

    const warnings: string[] = [];
    const manager = await CheckpointManager.open({
      store: new ObjectStore(bucket, KEY, jsonFormat, { onCorrupt: 'restart', durability: 'full' }),
      pipeline: 'p',
      logger: { warn: (message) => warnings.push(message), error: () => {} },
    });
    managers.push(manager);
    expect(manager.isItemCompleted('s', 'item-0')).toBe(false);
    expect(warnings.join('\n')).toMatch(/is damaged .* kept memory:\/\/bucket\/runs\/42\/checkpoint\.json\.corrupt-\S+, memory:\/\/bucket\/runs\/42\/checkpoint\.json\.bak\.corrupt-\S+ aside and started over \(onCorrupt: 'restart'\)/);
    // The damaged objects are kept byte for byte; the user's object is untouched.
    const keys = await keysOf(bucket, 'runs/42/');
    const asideSnapshot = keys.find((key) => key.startsWith(`${KEY}.corrupt-`))!;
    const asideBackup = keys.find((key) => key.startsWith(`${KEY}.bak.corrupt-`))!;
    expect(text(await bucket.get(asideSnapshot))).toBe(damagedBodies.get(KEY));
    expect(text(await bucket.get(asideBackup))).toBe(damagedBodies.get(`${KEY}.bak`));
    expect(text(await bucket.get('runs/42/notes.json'))).toBe('{"mine": true}');
    // The new run is a whole checkpoint: its marks survive a reopen, the old run's never come back.
    await manager.markItemCompleted('s', 'new');
    await manager.close();
    const reopened = await open(bucket);
    expect(reopened.isItemCompleted('s', 'new')).toBe(true);
    expect(reopened.isItemCompleted('s', 'item-1')).toBe(false);
  });

  it("with onCorrupt: 'restart', starts over from a damaged segment and never reads the old segments again", async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full' });
    for (let n = 0; n < 3; n++) await cp.markItemCompleted('s', `item-${n}`);
    await expireLease(bucket);
    const [, second] = await keysOf(bucket, `${KEY}.segments/`);
    const damaged = (await bucket.get(second!))!;
    await bucket.replace(second!, Buffer.from(text(damaged).replace('item-1', 'item-X')), damaged.version);
    const after = await open(bucket, { onCorrupt: 'restart', durability: 'full' });
    expect(after.isItemCompleted('s', 'item-0')).toBe(false);
    await after.markItemCompleted('s', 'fresh');
    await after.close();
    const reopened = await open(bucket);
    expect(reopened.isItemCompleted('s', 'fresh')).toBe(true);
    expect(reopened.isItemCompleted('s', 'item-0')).toBe(false);
  });

  it('counts a write that a retry found already done as written', async () => {
    const inner = new MemoryBucket();
    // Every create lands, but its answer is lost and the retry sees the object there.
    const bucket = new CountingBucket(inner, async (key, body) => {
      await inner.create(key, body);
      return undefined;
    });
    const cp = await open(bucket, { durability: 'full' });
    await cp.markItemCompleted('s', 'a');
    const after = await reopen(cp, inner);
    expect(after.isItemCompleted('s', 'a')).toBe(true);
  });

  it('after a write fails for good, acknowledges nothing more and resumes from what was acknowledged', async () => {
    const inner = new MemoryBucket();
    let failing = false;
    const bucket = new CountingBucket(inner, async (key, body) => {
      if (failing && key.includes('.segments/')) throw new CheckpointStoreError(`${inner.location}/${key}`, 'could not write it: 503 Service Unavailable');
      return inner.create(key, body);
    });
    const cp = await open(bucket, { durability: 'full' });
    await cp.markItemCompleted('s', 'kept');
    failing = true;
    await expect(cp.markItemCompleted('s', 'failed')).rejects.toThrow(/503 Service Unavailable/);
    await expect(cp.markItemCompleted('s', 'after')).rejects.toThrow(CheckpointStoreError);
    await expect(cp.close()).rejects.toThrow(CheckpointStoreError);
    const after = await open(inner);
    expect(after.isItemCompleted('s', 'kept')).toBe(true);
    expect(after.isItemCompleted('s', 'failed')).toBe(false);
  });

  it('deletes folded segments, keeping the ones its backup needs', async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full', maxSegments: 4 });
    for (let n = 0; n < 40; n++) await cp.markItemCompleted('s', `item-${n}`);
    await cp.close();
    // Only the segments after the backup's change stay: at most one compaction's worth.
    expect((await keysOf(bucket, `${KEY}.segments/`)).length).toBeLessThanOrEqual(8);
    expect(await keysOf(bucket, `${KEY}.b`)).toEqual([`${KEY}.bak`]);
  });

  it('removes every object it made when a run completes, and nothing else', async () => {
    const bucket = new MemoryBucket();
    await bucket.create('runs/42/notes.txt', Buffer.from('mine'));
    await bucket.create(`${KEY}.segments/README`, Buffer.from('not a segment'));
    const cp = await open(bucket, { durability: 'full', maxSegments: 2 });
    for (let n = 0; n < 10; n++) await cp.markItemCompleted('s', `item-${n}`);
    await cp.complete();
    // The lease stays, released and marked removed, keeping its epoch (see the next test).
    expect(await keysOf(bucket)).toEqual([`${KEY}.lease`, `${KEY}.segments/README`, 'runs/42/notes.txt']);
    expect(JSON.parse(text(await bucket.get(`${KEY}.lease`)))).toMatchObject({ released: true, removed: true, epoch: expect.any(Number) });
  });

  it('a segment a replaced holder writes after the next one completed is a leftover the next run deletes, not damage', async () => {
    const bucket = await removedWithLateSegment();
    expect((await keysOf(bucket, `${KEY}.segments/`)).length).toBe(1);
    const warnings: string[] = [];
    const third = await CheckpointManager.open({ store: new ObjectStore(bucket, KEY, jsonFormat, {}), pipeline: 'p', on: { warning: (event) => warnings.push(event.message) } });
    managers.push(third);
    expect(third.isItemCompleted('s', 'late')).toBe(false);
    expect(third.isItemCompleted('s', 'before')).toBe(false);
    expect(warnings).toEqual([`memory://bucket/${KEY}: deleted 1 segment object(s) written after the checkpoint was completed and removed, by a process that had lost its lease before (nothing in them was acknowledged)`]);
    expect(await keysOf(bucket, `${KEY}.segments/`)).toEqual([]);
    await third.markItemCompleted('s', 'new');
    await third.close();
    const fourth = await open(bucket);
    expect(fourth.isItemCompleted('s', 'new')).toBe(true);
  });

  it("keeps a removal's mark until the next holder has a snapshot: one that dies in between leaves the leftovers recognizable", async () => {
    const bucket = await removedWithLateSegment();
    // A holder takes the lease over and fails before it deleted the leftovers (its listing fails: a
    // kill -9 at that point leaves the same lease, only not released).
    const failing: ObjectBucket = {
      location: bucket.location,
      get: (key) => bucket.get(key),
      create: (key, body) => bucket.create(key, body),
      replace: (key, body, version) => bucket.replace(key, body, version),
      delete: (key, version) => bucket.delete(key, version),
      list: () => Promise.reject(new Error('connection reset')),
    };
    await expect(open(failing)).rejects.toThrow('connection reset');
    expect(JSON.parse(text(await bucket.get(`${KEY}.lease`)))).toMatchObject({ removed: true });
    const third = await open(bucket);
    expect(third.isItemCompleted('s', 'late')).toBe(false);
    await third.markItemCompleted('s', 'new');
    // Once it has a snapshot of its own, the mark is gone: late segments are of an older epoch now.
    expect(JSON.parse(text(await bucket.get(`${KEY}.lease`))).removed).toBe(undefined);
    await third.close();
    expect((await open(bucket)).isItemCompleted('s', 'new')).toBe(true);
  });

  it('keeps epochs rising where the lease object was deleted: a late segment of an old holder is never taken for the new one', async () => {
    const bucket = new MemoryBucket();
    const renewals = heldRenewals(bucket);
    const stale = await open(renewals.bucket, { durability: 'full', leaseRenewMs: 10, leaseTtlMs: 600_000 });
    for (let n = 0; n < 6; n++) await stale.markItemCompleted('s', `before-${n}`);
    renewals.hold();
    await expireLease(bucket);
    const next = await open(bucket, { durability: 'full' });
    await next.complete();
    // A minute later a person (or a lifecycle rule) deletes the removed lease; a new run starts;
    // only then the late segment lands, numbered after the new run's first marks.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 60_000 });
    await bucket.delete(`${KEY}.lease`);
    const fresh = await open(bucket, { durability: 'full' }).finally(() => vi.useRealTimers());
    for (let n = 0; n < 2; n++) await fresh.markItemCompleted('s', `new-${n}`);
    await lateMark(stale, renewals, 'late');
    for (let n = 2; n < 12; n++) await fresh.markItemCompleted('s', `new-${n}`);
    await fresh.close();
    const after = await open(bucket);
    expect(after.isItemCompleted('s', 'late')).toBe(false);
    for (let n = 0; n < 12; n++) expect(after.isItemCompleted('s', `new-${n}`)).toBe(true);
  });

  it('segments beside a checkpoint whose snapshot and backup are gone, without a removal, are still damage', async () => {
    const bucket = new MemoryBucket();
    const cp = await open(bucket, { durability: 'full' });
    await cp.markItemCompleted('s', 'a');
    await expireLease(bucket);
    await bucket.delete(KEY);
    await bucket.delete(`${KEY}.bak`);
    await expect(open(bucket)).rejects.toThrow(/missing, but its segments are still there/);
  });

  it('checks its options, naming the wrong one', () => {
    const bucket = new MemoryBucket();
    expect(() => new ObjectStore(bucket, KEY, jsonFormat, { leaseTtlMs: 3000, leaseRenewMs: 2000 })).toThrow(/Expected `leaseRenewMs` to be at most a third of `leaseTtlMs` \(3000\), got 2000/);
    expect(() => new ObjectStore(bucket, KEY, jsonFormat, { durabilty: 'full' } as ObjectStoreOptions)).toThrow(/durabilty.*did you mean `durability`/);
    expect(() => new ObjectStore(bucket, KEY, jsonFormat, { onCorrupt: 'repair' } as unknown as ObjectStoreOptions)).toThrow(/onCorrupt/);
  });
});

async function reopen(manager: CheckpointManager, bucket: ObjectBucket): Promise<CheckpointManager> {
  await manager.close();
  return open(bucket);
}
