import { randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { CheckpointManager } from '../../../src/manager/checkpoint-manager.js';
import { jsonFormat } from '../../../src/stores/file/snapshot-formats.js';
import { AzureBucket } from '../../../src/stores/object/azure-bucket.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from '../../../src/stores/object/bucket.js';
import { ObjectStore } from '../../../src/stores/object/object-store.js';
import type { ObjectStoreOptions } from '../../../src/stores/object/object-store-options.js';
import { startAzurite, type AzuriteServer } from '../../support/azurite.js';
import { costFigure, rateFigure, type Figure, type Scenario } from '../lib/figures.js';
import { keyOf, median } from '../lib/measure.js';
import { STEP } from './raw-append.js';

/** The checkpoint's key in its container (the store puts its segments, backup and lease beside it). */
const KEY = 'runs/bench/checkpoint.json';

/** Counts the requests a store (or the baseline) makes, by kind: what a bucket is billed for. */
class CountingBucket implements ObjectBucket {
  puts = 0;
  /** PUTs of the snapshot object itself: one per compaction (or the baseline's document). */
  snapshotPuts = 0;
  deletes = 0;
  gets = 0;
  lists = 0;
  constructor(private readonly inner: ObjectBucket) {
    const many = inner.deleteMany?.bind(inner);
    this.deleteMany = many && ((keys) => {
      this.deletes += Math.ceil(keys.length / 256);
      return many(keys);
    });
  }
  get location(): string {
    return this.inner.location;
  }
  get(key: string): Promise<StoredObject | undefined> {
    this.gets++;
    return this.inner.get(key);
  }
  create(key: string, body: Uint8Array): Promise<string | undefined> {
    this.puts++;
    if (key === KEY) this.snapshotPuts++;
    return this.inner.create(key, body);
  }
  replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    this.puts++;
    if (key === KEY) this.snapshotPuts++;
    return this.inner.replace(key, body, version);
  }
  delete(key: string, version?: string): Promise<void> {
    this.deletes++;
    return this.inner.delete(key, version);
  }
  /** Present when the inner bucket has it (Azure: one blob batch request per 256 keys), counted as the requests it makes. */
  readonly deleteMany: ((keys: readonly string[]) => Promise<void>) | undefined;
  list(prefix: string): Promise<ObjectEntry[]> {
    this.lists++;
    return this.inner.list(prefix);
  }
  counts(): Requests {
    return { puts: this.puts, snapshotPuts: this.snapshotPuts, deletes: this.deletes, gets: this.gets, lists: this.lists };
  }
}

interface Requests {
  puts: number;
  snapshotPuts: number;
  deletes: number;
  gets: number;
  lists: number;
}

const since = (now: Requests, before: Requests): Requests => ({ puts: now.puts - before.puts, snapshotPuts: now.snapshotPuts - before.snapshotPuts, deletes: now.deletes - before.deletes, gets: now.gets - before.gets, lists: now.lists - before.lists });

interface Measured {
  marksPerSecond: number;
  /** Requests from just after open to just after close (the close's compaction and deletes included), per mark. */
  perMark: Requests;
  /** Snapshots written from just after open to just after close: the compactions, the close's included. */
  compactions: number;
}

/** A fresh container on the server, and the counting bucket over it; the container is deleted after `use`. */
async function withBucket<T>(azurite: AzuriteServer, client: BlobServiceClient, use: (bucket: CountingBucket) => Promise<T>): Promise<T> {
  const container = await azurite.createContainer();
  try {
    return await use(new CountingBucket(new AzureBucket({ container, client })));
  } finally {
    // In-memory Azurite keeps every blob until its container goes.
    await client.getContainerClient(container).delete();
  }
}

/**
 * Seed 002's way: its JSON document (pipeline name, run GUID, completed steps, steps summary…),
 * here holding the keys marked so far, rewritten whole after every mark — one PUT, conditional on
 * the version the previous one returned (If-Match), through the same adapter and client as the
 * store. The document grows with the marks, so each PUT carries every key marked before it.
 */
async function wholeDocumentPerMark(bucket: CountingBucket, count: number): Promise<Measured> {
  const guid = randomUUID();
  const started = new Date().toISOString();
  const completed: string[] = [];
  const document = {
    pipeline_name: 'bench',
    run_guid: guid,
    run_folder: `runs/run_${guid.slice(0, 8)}`,
    timestamp: started,
    completed_steps: [] as string[],
    context: {},
    steps_summary: { [STEP]: { status: 'running', start_time: started, completed_items: completed } },
    checkpoint_version: '1.0',
  };
  let version: string | undefined;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    completed.push(keyOf(i));
    document.timestamp = new Date().toISOString();
    const body = Buffer.from(JSON.stringify(document, null, 2));
    version = version === undefined ? await bucket.create(KEY, body) : await bucket.replace(KEY, body, version);
    if (version === undefined) throw new Error(`the whole-document baseline lost its condition at mark ${i + 1}: another writer?`);
  }
  const ms = performance.now() - start;
  return { marksPerSecond: (count * 1000) / ms, perMark: perMark(bucket.counts(), count), compactions: 0 };
}

const perMark = (requests: Requests, count: number): Requests => ({ puts: requests.puts / count, snapshotPuts: requests.snapshotPuts / count, deletes: requests.deletes / count, gets: requests.gets / count, lists: requests.lists / count });

/**
 * `count` marks into an ObjectStore over the bucket, `concurrency` loops sharing the work, each
 * awaiting its marks, then `flush()` (so every mode ends with its marks in the bucket, as the
 * baseline's do): timed. Opening and closing are not timed; the requests of the close (the last
 * compaction and the deletes of folded segments) are counted.
 */
async function storeMarks(bucket: CountingBucket, options: ObjectStoreOptions, count: number, concurrency: number): Promise<Measured> {
  const checkpoint = await CheckpointManager.open({ store: new ObjectStore(bucket, KEY, jsonFormat, options), pipeline: 'bench' });
  const before = bucket.counts();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await checkpoint.markItemCompleted(STEP, keyOf(i));
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  await checkpoint.flush();
  const ms = performance.now() - start;
  await checkpoint.close();
  const requests = since(bucket.counts(), before);
  return { marksPerSecond: (count * 1000) / ms, perMark: perMark(requests, count), compactions: requests.snapshotPuts };
}

interface Mode {
  id: string;
  /** For the requests rows. */
  short: string;
  label: string;
  options: ObjectStoreOptions;
  concurrency: number;
  /** A diagnostic left out of the quick run, where no compaction happens while marking anyway. */
  fullRunOnly?: boolean;
}

/** Every mode with the store's default options, as users get them; one diagnostic row beside them. */
const MODES: readonly Mode[] = [
  { id: 'full', short: "'full', 1 in flight", label: "'full', 1 mark in flight", options: { durability: 'full' }, concurrency: 1 },
  {
    id: 'fullNoCompaction',
    short: "'full', 1 in flight, no compaction while marking",
    label: "'full', 1 in flight, maxSegments 100,000: no compaction while marking (diagnostic)",
    options: { durability: 'full', maxSegments: 100_000 },
    concurrency: 1,
    fullRunOnly: true,
  },
  { id: 'full16', short: "'full', 16 in flight", label: "'full', 16 marks in flight (group commit)", options: { durability: 'full' }, concurrency: 16 },
  // In a bucket `normal` is `full` (a mark resolves once its segment is created), so 1 in flight costs what 'full' does.
  { id: 'normal', short: "'normal'", label: "'normal' (in a bucket: a mark waits for its segment, as 'full'), 1 in flight", options: { durability: 'normal' }, concurrency: 1 },
  { id: 'batched', short: "'batched'", label: "'batched' (a segment every 100 marks)", options: { durability: 'batched' }, concurrency: 1 },
];

const BASELINE = 'baseline';

/**
 * Scenario 13: marks/s into an az:// checkpoint (ObjectStore over AzureBucket) on a local Azurite
 * server, per durability mode, against seed 002's one conditional PUT of the whole JSON document
 * per mark on the same server, interleaved in each round; and the requests each makes per mark.
 */
export const objectStorageScenario: Scenario = {
  numbers: [13],
  title: "object storage (Azurite): marks per mode vs seed 002's PUT of the whole document per mark",
  async run({ scale, log }) {
    const count = scale.objectMarks;
    const modes = MODES.filter((mode) => !(mode.fullRunOnly && scale.quick));
    const azurite = await startAzurite();
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    log(`  Azurite (blob service, in memory) on 127.0.0.1; ${count} marks per mode and round, ${scale.objectRepetitions} rounds; each in a fresh container`);
    const runs = new Map<string, Measured[]>([BASELINE, ...modes.map((mode) => mode.id)].map((id) => [id, []]));
    try {
      for (let rep = 0; rep < scale.objectRepetitions; rep++) {
        // Interleaved, so that a noisy moment hits the baseline and the store alike.
        runs.get(BASELINE)!.push(await withBucket(azurite, client, (bucket) => wholeDocumentPerMark(bucket, count)));
        for (const mode of modes) runs.get(mode.id)!.push(await withBucket(azurite, client, (bucket) => storeMarks(bucket, mode.options, count, mode.concurrency)));
        const rate = (id: string): string => {
          const run = runs.get(id)!.at(-1)!;
          return `${Math.round(run.marksPerSecond)}/s${run.compactions > 1 ? ` (${run.compactions} compactions)` : ''}`;
        };
        log(`  rep ${rep + 1}: whole-document PUT ${rate(BASELINE)}, ${modes.map((mode) => `${mode.id} ${rate(mode.id)}`).join(', ')}`);
      }
    } finally {
      await azurite.stop();
    }

    const medianOf = (id: string, pick: (run: Measured) => number): number => median(runs.get(id)!.map(pick));
    const rates = (id: string): number[] => runs.get(id)!.map((run) => run.marksPerSecond);
    const writes = (run: Measured): number => run.perMark.puts + run.perMark.deletes;
    const baselineLabel = `one conditional PUT of the whole JSON document per mark (seed 002), growing to ${count} keys`;
    const baseline = { label: baselineLabel, value: medianOf(BASELINE, (run) => run.marksPerSecond) };
    const baselineWrites = { label: 'seed 002: one PUT of the whole document per mark', value: medianOf(BASELINE, writes) };
    const figures: Figure[] = [];
    for (const mode of modes) {
      figures.push(rateFigure({ id: `object.${mode.id}.marks`, scenario: 13, label: `az:// ${mode.label}, ${count} marks`, value: medianOf(mode.id, (run) => run.marksPerSecond), unit: 'marks/s', baseline, samples: rates(mode.id), note: `baseline samples ${rates(BASELINE).map(Math.round).join(', ')}; compactions (snapshot PUTs, the close's included) per round: ${runs.get(mode.id)!.map((run) => run.compactions).join(', ')}` }));
    }
    for (const mode of modes) {
      const split = (pick: (requests: Requests) => number): number => medianOf(mode.id, (run) => pick(run.perMark));
      const [puts, deletes, reads] = [split((r) => r.puts), split((r) => r.deletes), split((r) => r.gets + r.lists)];
      figures.push(
        costFigure({
          id: `object.${mode.id}.writes`,
          scenario: 13,
          label: `az:// ${mode.short}: writes per mark (${puts.toFixed(3)} PUT + ${deletes.toFixed(3)} DELETE), close included`,
          value: medianOf(mode.id, writes),
          unit: 'writes/mark',
          baseline: baselineWrites,
          samples: runs.get(mode.id)!.map(writes),
          note: `median per mark: ${puts.toFixed(4)} PUT, ${deletes.toFixed(4)} DELETE, ${reads.toFixed(4)} GET + LIST, from after open to after close (open not counted)`,
        }),
      );
    }
    return figures;
  },
};
