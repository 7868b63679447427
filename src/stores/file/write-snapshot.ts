import type { CheckpointDocument } from '../../core/model.js';
import { rotateBackups } from './backups.js';
import { crashPoint } from './crash-point.js';
import { fsyncDirectory, replaceFile } from './fs-durable.js';
import { renderSnapshot, type SnapshotFormat } from './snapshot-format.js';

/**
 * Replaces the snapshot at `path` with `document` (holding the journal up to `sequence`): renders
 * it in chunks, keeps the previous snapshot as the newest of `backups` backups, writes the new one
 * atomically (to a staging file of its own name with write-file-atomic — temporary file, fsync,
 * rename — then renamed over `path`) and fsyncs the directory so that its name survives a power
 * cut. A crash at any point leaves either the old snapshot or the new one.
 * @param beforeReplace called synchronously before the backups are rotated and again right before
 *   the new snapshot is renamed over the old one (the writer's check that it still holds the
 *   lock); if it throws, the old snapshot and backups stay and the error is thrown
 * @returns the new snapshot's size in bytes
 */
export async function writeSnapshot(
  path: string,
  format: SnapshotFormat,
  document: CheckpointDocument,
  sequence: number,
  backups: number,
  beforeReplace: () => void = () => {},
): Promise<number> {
  const bytes = await renderSnapshot(format, document, sequence);
  beforeReplace();
  await rotateBackups(path, backups);
  crashPoint('compaction:after-backup');
  await replaceFile(path, bytes, beforeReplace);
  await fsyncDirectory(path);
  crashPoint('compaction:after-snapshot');
  return bytes.length;
}
