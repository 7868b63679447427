import { CheckpointCorruptError } from '../../core/errors.js';
import type { CorruptionProblem } from '../../core/errors.js';
import { decodeRecord, type JournalRecord } from '../file/journal.js';
import { parseSnapshot, type SnapshotContent, type SnapshotFormat } from '../file/snapshot-formats.js';
import type { ObjectBucket, ObjectEntry } from './bucket.js';
import { backupKey, parseSegmentKey, segmentPrefix, type SegmentName } from './object-keys.js';

/** A snapshot object as read: its content, the epoch it was written in, and what it costs to hold. */
export interface ObjectSnapshot {
  content: SnapshotContent;
  epoch: number;
  /** Undefined when no object is at the key: its backup stood in for a snapshot that is gone. */
  version: string | undefined;
  bytes: Uint8Array;
}

export interface ObjectCheckpoint {
  snapshot: ObjectSnapshot | undefined;
  /** The previous snapshot's version in `<key>.bak`, if there is one. */
  backupVersion: string | undefined;
  /** Changes after the snapshot, in order, from the segments that continue it. */
  records: JournalRecord[];
  /** Every segment object found, trusted or not (a new holder deletes the ones it does not need). */
  segments: SegmentName[];
  /** Set when the snapshot was damaged and its backup stood in for it. */
  recovered?: { from: string; problems: CorruptionProblem[] };
}

const READ_CONCURRENCY = 16;
/** How often a read starts again when the checkpoint changed under it. */
const READ_ATTEMPTS = 8;

/**
 * Reads a checkpoint from its bucket: the snapshot (or, when it is damaged, its backup) and the
 * segments that continue it. Only segments of the snapshot's epoch are trusted, and of later
 * epochs only up to where the next epoch begins: a holder that lost its lease may still write
 * segments of its old epoch, and the holder after it wrote a snapshot of a newer epoch before
 * acknowledging anything, so those late segments are never read.
 *
 * A reader without the lease (the CLI while a run holds the checkpoint) can see a compaction
 * delete the segments it listed, or a completed run remove the checkpoint: damage that was a
 * change under the read. So damage found is checked once more: when the snapshot's version or
 * the listing changed meanwhile, the read starts again; only damage that stays put is reported.
 * @throws CheckpointCorruptError when the snapshot and its backup are damaged, or a segment is
 */
export async function readObjectCheckpoint(bucket: ObjectBucket, key: string, format: SnapshotFormat): Promise<ObjectCheckpoint> {
  for (let attempt = 1; ; attempt++) {
    const before = await fingerprint(bucket, key);
    try {
      return await readOnce(bucket, key, format, before.listed);
    } catch (error) {
      if (!(error instanceof CheckpointCorruptError)) throw error;
      const after = attempt === READ_ATTEMPTS ? before : await fingerprint(bucket, key);
      if (after.text === before.text) throw new CheckpointCorruptError(error.location, error.problems, { cause: error.cause, hint: BUCKET_DAMAGE_HINT });
    }
  }
}

/** What to do about damage in a bucket, which has no `restore` of numbered backups. */
export const BUCKET_DAMAGE_HINT =
  "start over by opening it with { onCorrupt: 'restart' } (the damaged snapshot and backup are kept aside), or put back the objects from your bucket's versioning";

/** The snapshot and the objects beside it, listed; `text` changes when any of them does. */
async function fingerprint(bucket: ObjectBucket, key: string): Promise<{ listed: ObjectEntry[]; text: string }> {
  const listed = (await bucket.list(key)).filter((entry) => entry.key === key || entry.key.startsWith(`${key}.`));
  return { listed, text: listed.map((entry) => `${entry.key}@${entry.version}`).join('\n') };
}

async function readOnce(bucket: ObjectBucket, key: string, format: SnapshotFormat, listed: readonly ObjectEntry[]): Promise<ObjectCheckpoint> {
  const segments = listed.flatMap((entry) => parseSegmentKey(key, entry.key) ?? []);
  const backupVersion = listed.find((entry) => entry.key === backupKey(key))?.version;
  const where = `${bucket.location}/${key}`;
  let snapshot: ObjectSnapshot | undefined;
  let damage: CheckpointCorruptError | undefined;
  try {
    snapshot = await readSnapshotObject(bucket, key, format);
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError)) throw error;
    damage = error;
  }
  if (!snapshot && !damage && (segments.length > 0 || backupVersion !== undefined)) {
    damage = new CheckpointCorruptError(where, [{ path: '', message: `missing, but ${segments.length > 0 ? 'its segments are' : 'its backup is'} still there` }]);
  }
  let recovered: ObjectCheckpoint['recovered'];
  if (damage) {
    const backup = backupVersion === undefined ? undefined : await readSnapshotObject(bucket, backupKey(key), format).catch(() => undefined);
    if (!backup) throw damage;
    // The next snapshot replaces the damaged one at its version, or creates it where it is gone.
    snapshot = { ...backup, version: (await bucket.get(key))?.version };
    recovered = { from: `${where}.bak`, problems: [...damage.problems] };
  }
  if (!snapshot) return { snapshot, backupVersion, records: [], segments };
  const chain = chainSegments(segments, snapshot.epoch, snapshot.content.sequence);
  if (chain.gapAfter !== undefined && !recovered) {
    throw new CheckpointCorruptError(where, [{ path: 'segments', message: `changes after ${chain.gapAfter} are missing: the next segment starts later (a segment object was deleted, or an older snapshot put in place)` }]);
  }
  const records = await readChain(bucket, chain.parts, where);
  if (recovered && chain.gapAfter !== undefined) {
    recovered.problems.push({ path: 'segments', message: `the backup and its segments reach change ${chain.gapAfter}; changes after it were only in the damaged snapshot and are lost` });
  }
  return { snapshot, backupVersion, records, segments, ...(recovered ? { recovered } : {}) };
}

async function readSnapshotObject(bucket: ObjectBucket, key: string, format: SnapshotFormat): Promise<ObjectSnapshot | undefined> {
  const found = await bucket.get(key);
  if (!found) return undefined;
  const where = `${bucket.location}/${key}`;
  const content = parseSnapshot(Buffer.from(found.body), format, where);
  return { content, epoch: content.epoch ?? 0, version: found.version, bytes: found.body };
}

interface ChainPart {
  segment: SegmentName;
  /** The records of the segment to take: first…last. */
  from: number;
  to: number;
}

/**
 * The segments that continue a snapshot of `epoch` at `sequence`: of that epoch first, each
 * epoch cut where the next one's first segment begins. `gapAfter` is the last change reached
 * when a segment is missing before the last one found.
 */
export function chainSegments(segments: readonly SegmentName[], epoch: number, sequence: number): { parts: ChainPart[]; gapAfter?: number } {
  const epochs = [...new Set(segments.map((segment) => segment.epoch).filter((each) => each >= epoch))].sort((a, b) => a - b);
  const parts: ChainPart[] = [];
  let next = sequence + 1;
  for (let index = 0; index < epochs.length; index++) {
    const following = epochs[index + 1];
    const cutoff = following === undefined ? Infinity : Math.min(...segments.filter((segment) => segment.epoch === following).map((segment) => segment.first));
    const own = segments.filter((segment) => segment.epoch === epochs[index]).sort((a, b) => a.first - b.first);
    for (const segment of own) {
      if (segment.last < next || segment.first >= cutoff) continue;
      if (segment.first > next) return { parts, gapAfter: next - 1 };
      const to = Math.min(segment.last, cutoff - 1);
      parts.push({ segment, from: next, to });
      next = to + 1;
    }
    if (following !== undefined && cutoff > next) return { parts, gapAfter: next - 1 };
  }
  return { parts };
}

async function readChain(bucket: ObjectBucket, parts: readonly ChainPart[], where: string): Promise<JournalRecord[]> {
  const bodies: JournalRecord[][] = new Array(parts.length);
  let index = 0;
  const worker = async (): Promise<void> => {
    for (let mine = index++; mine < parts.length; mine = index++) bodies[mine] = await readSegment(bucket, parts[mine]!, where);
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, parts.length) }, worker));
  return bodies.flat();
}

/** A segment is written whole by one request: every record must be there and intact. */
async function readSegment(bucket: ObjectBucket, part: ChainPart, where: string): Promise<JournalRecord[]> {
  const { segment } = part;
  const name = `${bucket.location}/${segment.key}`;
  const found = await bucket.get(segment.key);
  if (!found) throw new CheckpointCorruptError(where, [{ path: 'segments', message: `${name} was listed but is gone (deleted by hand, or by a compaction of another process)` }]);
  const lines = Buffer.from(found.body).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const records = lines.map((line, number) => decodeRecord(line, `${name} line ${number + 1}`));
  const expected = segment.last - segment.first + 1;
  const broken = records.findIndex((record, number) => record?.sequence !== segment.first + number);
  if (broken !== -1 || records.length !== expected) {
    throw new CheckpointCorruptError(name, [{ path: broken === -1 ? '' : `line ${broken + 1}`, message: `expected changes ${segment.first}…${segment.last}, one checksummed record a line (changed after it was written)` }]);
  }
  return (records as JournalRecord[]).slice(part.from - segment.first, part.to - segment.first + 1);
}

export { segmentPrefix };
