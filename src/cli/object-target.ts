import { CheckpointCorruptError } from '../core/errors.js';
import { CheckpointState } from '../core/state.js';
import { snapshotFormatFor } from '../stores/file/snapshot-formats.js';
import { backupKey, leaseKey, parseSegmentKey } from '../stores/object/object-keys.js';
import { decodeRecord } from '../stores/file/journal.js';
import { isLeaseLive, parseLease, type LeaseBody } from '../stores/object/lease.js';
import { readObjectCheckpoint, type ObjectCheckpoint } from '../stores/object/read-object-checkpoint.js';
import { parseObjectUrl, readOnlyBucket, type ObjectUrl } from '../stores/object/stores-by-scheme.js';
import { CliError, NoCheckpointError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { HEAD_BYTES, PARSE_WHOLE_BYTES, headNamesCheckpointFields, textHoldsCheckpoint } from './find-checkpoints.js';
import type { LockView } from './lock-view.js';
import { readStart, type ObjectBucket } from '../stores/object/bucket.js';

/** A checkpoint in object storage: `az://container/key.json`, `s3://bucket/key.json`, `gs://bucket/key.json`. */
export interface ObjectTarget {
  kind: 'object';
  url: string;
}

/** Parses a bucket URL given on the command line, a checkpoint's or a prefix to list; a bad one is a usage error. */
export function parseUrlArgument(argument: string, of: 'checkpoint' | 'prefix' = 'checkpoint'): ObjectUrl {
  try {
    return of === 'checkpoint' ? parseObjectUrl(argument, 'the checkpoint') : parseObjectUrl(argument, 'the prefix', '<prefix>');
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.usage);
  }
}

/** A checkpoint read from its bucket without a lease: what it adds up to, who holds it, and what was damaged. */
export interface ObjectCheckpointRead {
  read: ObjectCheckpoint;
  state: CheckpointState;
  format: string;
  lock: LockView | null;
}

/**
 * Reads the checkpoint at `url` without taking its lease or writing anything, so it works while
 * a run holds it. Segments a holder is writing right now may or may not be seen yet.
 * @throws CliError when there is no checkpoint at `url`; CheckpointCorruptError when it cannot be read
 */
export async function readObjectTarget(target: ObjectTarget): Promise<ObjectCheckpointRead> {
  const url = parseUrlArgument(target.url);
  let format;
  try {
    format = snapshotFormatFor(url.key);
  } catch {
    throw new CliError(`${target.url}: expected the URL of a checkpoint's snapshot object, ending in .json, .yaml or .yml — "checkpoint-resume list ${target.url}" finds the checkpoints under a prefix`, ExitCode.usage);
  }
  const bucket = readOnlyBucket(url);
  let read: ObjectCheckpoint;
  try {
    read = await readObjectCheckpoint(bucket, url.key, format);
  } catch (error) {
    if (error instanceof CheckpointCorruptError && (await readLease(bucket, url.key).catch(() => undefined))?.removed) throw removedError(target.url);
    throw error;
  }
  if (!read.snapshot) throw new NoCheckpointError(`${target.url}: no checkpoint here (no such object) — check the URL; a pipeline creates it on its first run`);
  const content = read.snapshot.content;
  const state = CheckpointState.fromDocument(content, Math.max(100, content.errors.length));
  for (const record of read.records) state.apply(record.change);
  // A damaged lease keeps every run out, as damage does: it is reported as damage.
  const lease = await readLease(bucket, url.key);
  const lock = lease && !lease.released ? { pid: lease.owner.pid, host: lease.owner.host, since: lease.owner.since ?? null, alive: isLeaseLive(lease) } : null;
  return { read, state, format: format.name, lock };
}

/** What is left of a checkpoint a run completed: segments a process that had lost its lease wrote late. */
function removedError(url: string): NoCheckpointError {
  return new NoCheckpointError(`${url}: no checkpoint here — a run completed it and removed it; segment objects that a process which had lost its lease wrote afterwards are left beside it, and the next run at this URL deletes them`);
}

/** The most of a lease object read: a lease is a few hundred bytes, and a larger object is none. */
const LEASE_BYTES = 64 * 1024;

/**
 * The lease of checkpoint `key`, or undefined when there is none.
 * @throws CheckpointCorruptError when the object is not a lease this library wrote (its message says what to do)
 */
async function readLease(bucket: ObjectBucket, key: string): Promise<LeaseBody | undefined> {
  const bytes = await readStart(bucket, leaseKey(key), LEASE_BYTES);
  return bytes && parseLease(bytes, `${bucket.location}/${leaseKey(key)}`);
}

/** The damage a backup stood in for, as the error a file checkpoint's damage is. */
export function damageOf(read: ObjectCheckpoint, url: string): CheckpointCorruptError | null {
  return read.recovered ? new CheckpointCorruptError(url, read.recovered.problems) : null;
}

/** What names a checkpoint `K` in a listing: `K.lease`, `K.bak` or a segment `K.segments/<epoch>-<first>-<last>` beside it. */
const COMPANION = /^(.+\.(?:json|ya?ml))(?:\.lease|\.bak|\.segments\/\d{10}-\d{15}-\d{15})$/i;

/**
 * The checkpoints under the prefix of `location` (`az://container/runs/`), as URLs: a `.json`,
 * `.yaml` or `.yml` object with a lease the library wrote or segments named as it names them
 * beside it, or with a backup the library wrote (its checksum line, then a checkpoint's first
 * fields: a bucket's backup is always the library's copy of an earlier snapshot, so a person's
 * `export.json.bak` that merely looks like one does not count), and one whose snapshot is gone but
 * whose backup or segments are left. An object that is a whole document of another kind is not
 * listed on the word of its backup alone. Only the first bytes of a large object are read. Sorted.
 */
export async function findObjectCheckpoints(location: string): Promise<string[]> {
  const url = parseUrlArgument(location, 'prefix');
  const found = await findCheckpointKeys(readOnlyBucket(url), url.key);
  // A "%" in a key is written %25, so that the URL printed reads back as the same key.
  return found.map((key) => `${url.scheme}://${url.bucket}/${key.replaceAll('%', '%25')}`);
}

/** The keys of the checkpoints under `prefix` in `bucket`, by the rules of {@link findObjectCheckpoints}; sorted. */
export async function findCheckpointKeys(bucket: ObjectBucket, prefix: string): Promise<string[]> {
  const sizes = new Map((await bucket.list(prefix)).map((entry) => [entry.key, entry.size]));
  const candidates = new Set<string>();
  for (const key of sizes.keys()) {
    const snapshot = COMPANION.exec(key)?.[1];
    if (snapshot === undefined) continue;
    // A lease alone is a run that never saved (or a checkpoint being removed): nothing to list.
    if (sizes.has(snapshot) || sizes.has(backupKey(snapshot)) || parseSegmentKey(snapshot, key)) candidates.add(snapshot);
  }
  const found: string[] = [];
  for (const snapshot of candidates) {
    const lease = sizes.has(leaseKey(snapshot)) ? await leaseOrNothing(bucket, snapshot) : undefined;
    const segments = [...sizes.keys()].filter((key) => parseSegmentKey(snapshot, key) !== undefined);
    // Segments beside a completed checkpoint's lease, with no snapshot or backup: late writes, nothing to list.
    const leftovers = lease?.removed === true && !sizes.has(snapshot) && !sizes.has(backupKey(snapshot));
    const own = (sizes.has(snapshot) && lease !== undefined) || (!leftovers && (await holdsSegment(bucket, segments)));
    if (own || (await backupVouchesFor(bucket, snapshot, sizes.get(snapshot)))) found.push(snapshot);
  }
  return found.sort();
}

/** `<snapshot>.lease` if it is a lease this library wrote (a person's `notes.json.lease` is not). */
async function leaseOrNothing(bucket: ObjectBucket, snapshot: string): Promise<LeaseBody | undefined> {
  try {
    return await readLease(bucket, snapshot);
  } catch (error) {
    if (error instanceof CheckpointCorruptError) return undefined;
    throw error;
  }
}

/** Whether one of `segments` starts with a record this library wrote (a person's object of a segment's name does not). */
async function holdsSegment(bucket: ObjectBucket, segments: readonly string[]): Promise<boolean> {
  for (const key of segments) {
    const head = await readStart(bucket, key, HEAD_BYTES);
    const line = head && textOf(head).split('\n')[0]!;
    try {
      if (line && decodeRecord(line, key)) return true;
    } catch {
      return true; // Its checksum matches: the library wrote it, whatever its change says.
    }
  }
  return false;
}

/**
 * Whether the backup of `snapshot` says it is a checkpoint: the backup starts with the library's
 * checksum line and a checkpoint's first fields, and the snapshot (of `snapshotSize` bytes, when
 * there is one) is a checkpoint too or is damaged — not a readable document of another kind. A
 * snapshot too large to parse whole counts by its first bytes alone.
 */
async function backupVouchesFor(bucket: ObjectBucket, snapshot: string, snapshotSize: number | undefined): Promise<boolean> {
  const format = snapshotFormatFor(snapshot);
  const backup = await readStart(bucket, backupKey(snapshot), HEAD_BYTES);
  if (backup === undefined) return false;
  const head = textOf(backup);
  if (!format.findChecksum(head) || !headNamesCheckpointFields(head, format)) return false;
  if (snapshotSize === undefined) return true;
  const whole = snapshotSize <= PARSE_WHOLE_BYTES;
  const object = await readStart(bucket, snapshot, whole ? PARSE_WHOLE_BYTES : HEAD_BYTES);
  if (object === undefined) return true; // Deleted since the listing: its backup is what is left.
  const text = textOf(object);
  if (textHoldsCheckpoint(text, whole, format)) return true;
  if (!whole) return false;
  try {
    format.parse(text);
    return false; // A readable document that is not a checkpoint.
  } catch {
    return true; // A damaged snapshot beside a good backup: a checkpoint to recover.
  }
}

function textOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
