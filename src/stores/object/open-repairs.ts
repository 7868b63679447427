import { CheckpointCorruptError, CheckpointStoreError, startedOverMessage } from '../../core/errors.js';
import { corruptName } from '../file/fs-durable.js';
import type { CorruptPolicy } from '../file/file-store-options.js';
import type { SnapshotFormat } from '../file/snapshot-formats.js';
import type { StoreSession } from '../store.js';
import { deleteKeys, type ObjectBucket } from './bucket.js';
import { createOwn } from './conditional-writes.js';
import type { Lease } from './lease.js';
import { backupKey, parseSegmentKey, segmentPrefix } from './object-keys.js';
import { readObjectCheckpoint, type ObjectCheckpoint } from './read-object-checkpoint.js';

/** A checkpoint being opened under its lease: where it is, and whom to tell what was repaired. */
export interface OpeningCheckpoint {
  bucket: ObjectBucket;
  key: string;
  /** The checkpoint's URL, for messages. */
  location: string;
  lease: Lease;
  session: StoreSession;
}

/**
 * Deletes the segments found beside a removed checkpoint (no snapshot, no backup): a holder that
 * had lost its lease wrote them after the removal, and nothing it wrote then was acknowledged.
 */
export async function deleteRemovalLeftovers({ bucket, key, location, lease, session }: OpeningCheckpoint): Promise<void> {
  const listed = await bucket.list(key);
  if (listed.some((entry) => entry.key === key || entry.key === backupKey(key))) return;
  const late = listed.flatMap((entry) => (parseSegmentKey(key, entry.key) ? [entry.key] : []));
  if (late.length === 0) return;
  await deleteKeys(bucket, late, () => lease.assertHeld());
  session.emit('warning', { message: `${location}: deleted ${late.length} segment object(s) written after the checkpoint was completed and removed, by a process that had lost its lease before (nothing in them was acknowledged)` });
}

/**
 * The checkpoint as it is in the bucket. With `onCorrupt: 'restart'`, damage that the backup
 * cannot repair keeps the snapshot and its backup aside (as `<key>.corrupt-<time>` and
 * `<key>.bak.corrupt-<time>`) and reads as no checkpoint; the old segments are then of an
 * older epoch than anything this holder writes, so they are never read again.
 */
export async function readOrStartOver(opening: OpeningCheckpoint, format: SnapshotFormat, onCorrupt: CorruptPolicy): Promise<ObjectCheckpoint> {
  const { bucket, key, location, lease, session } = opening;
  try {
    return await readObjectCheckpoint(bucket, key, format);
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError) || onCorrupt !== 'restart') throw error;
    const kept: string[] = [];
    for (const damaged of [key, backupKey(key)]) {
      const found = await bucket.get(damaged);
      if (!found) continue;
      const aside = corruptName(damaged);
      lease.assertHeld();
      if ((await createOwn(bucket, aside, found.body)) === undefined) throw new CheckpointStoreError(location, `could not keep ${damaged} aside as ${aside}: that object exists already`);
      await bucket.delete(damaged, found.version);
      kept.push(`${bucket.location}/${aside}`);
    }
    const where = kept.length > 0 ? `kept ${kept.join(', ')} aside` : 'nothing to keep aside';
    session.emit('warning', { message: startedOverMessage(error, where), cause: error });
    const listed = await bucket.list(segmentPrefix(key));
    return { snapshot: undefined, backupVersion: undefined, records: [], segments: listed.flatMap((entry) => parseSegmentKey(key, entry.key) ?? []) };
  }
}
