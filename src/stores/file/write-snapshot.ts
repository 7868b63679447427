import writeFileAtomic from 'write-file-atomic';
import type { CheckpointDocument } from '../../core/model.js';
import { rotateBackups } from './backups.js';
import { crashPoint } from './crash-point.js';
import { fsyncDirectory } from './fs-durable.js';
import { renderSnapshot, type SnapshotFormat } from './snapshot-format.js';

/**
 * Replaces the snapshot at `path` with `document` (holding the journal up to `sequence`): renders
 * it in chunks, keeps the previous snapshot as the newest of `backups` backups, writes the new one
 * atomically (temporary file, fsync, rename) and fsyncs the directory so that its name survives
 * a power cut. A crash at any point leaves either the old snapshot or the new one.
 * @returns the new snapshot's size in bytes
 */
export async function writeSnapshot(path: string, format: SnapshotFormat, document: CheckpointDocument, sequence: number, backups: number): Promise<number> {
  const bytes = await renderSnapshot(format, document, sequence);
  await rotateBackups(path, backups);
  crashPoint('compaction:after-backup');
  await writeFileAtomic(path, bytes, { fsync: true });
  await fsyncDirectory(path);
  crashPoint('compaction:after-snapshot');
  return bytes.length;
}
