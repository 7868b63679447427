import { open } from 'node:fs/promises';
import { CheckpointCorruptError, CheckpointStoreError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json.js';
import { parseDocument } from '../../core/schema.js';
import { continueCrc32, formatChecksum, type FoundChecksum, type SnapshotContent, type SnapshotFormat } from './snapshot-format.js';

export interface ReadSnapshot {
  content: SnapshotContent;
  bytes: number;
}

/**
 * Reads and validates one snapshot file; `undefined` if it does not exist.
 * @throws CheckpointCorruptError if it is not a valid checkpoint
 * @throws CheckpointStoreError if it cannot be read at all (a directory, no permission…)
 */
export async function readSnapshot(file: string, format: SnapshotFormat): Promise<ReadSnapshot | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readWholeFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const why = code === 'EISDIR' ? 'is a directory, not a checkpoint file' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read: ${(error as Error).message}`;
    throw new CheckpointStoreError(file, `${why} — point \`path\` at a checkpoint file`, { cause: error });
  }
  return parseSnapshot(file, bytes, format).snapshot;
}

/**
 * Validates a snapshot's bytes (checksum, format, document) wherever they were read from; `raw`
 * is the parsed top level, for fields a store keeps beside the document.
 * @throws CheckpointCorruptError if they are not a valid checkpoint
 */
export function parseSnapshot(file: string, bytes: Buffer, format: SnapshotFormat): { snapshot: ReadSnapshot; raw: unknown } {
  let text: string;
  try {
    // Fatal decoding: a byte that is not UTF-8 would otherwise become U+FFFD and silently change a key.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new CheckpointCorruptError(file, [{ path: '', message: 'contains bytes that are not UTF-8 text' }], { cause: error });
  }
  const found = format.findChecksum(text);
  if (found) verifyChecksum(file, bytes, found);
  let raw: unknown;
  try {
    raw = format.parse(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new CheckpointCorruptError(file, [{ path: '', message: `not valid ${format.name}: ${reason}` }], { cause: error });
  }
  if (isJsonObject(raw) && Object.hasOwn(raw, 'checksum')) {
    // Not a field of the document. When it is not the line the writer made (a program parsed
    // and re-serialised the file), the file was rewritten on purpose: it is read like a
    // hand-written one, without a check.
    const { checksum: _checksum, ...rest } = raw;
    raw = rest;
  }
  const sequence = isJsonObject(raw) ? raw.sequence ?? 0 : 0;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
    throw new CheckpointCorruptError(file, [{ path: 'sequence', message: `expected a non-negative integer, got ${JSON.stringify(sequence)}` }]);
  }
  const document = parseDocument(raw, file);
  return { snapshot: { content: { ...document, sequence }, bytes: bytes.length }, raw };
}

/**
 * A snapshot's checksum covers its bytes without the checksum line: any change to them — a
 * flipped digit that still parses, a file cut short — is found before the content is trusted.
 */
function verifyChecksum(file: string, bytes: Buffer, found: FoundChecksum): void {
  const crc = continueCrc32(continueCrc32(0, bytes.subarray(0, found.start)), bytes.subarray(found.end));
  if (formatChecksum(crc) === found.checksum) return;
  throw new CheckpointCorruptError(file, [{
    path: 'checksum',
    message: `the content does not match its checksum ${found.checksum} (it has ${formatChecksum(crc)}): the file was changed after it was written — if you edited it by hand, delete the checksum line`,
  }]);
}

/**
 * Reads a whole file in one `read` where it can: `fs.promises.readFile` reads 512 KiB at a time,
 * one round trip to the thread pool each, which at 30 MB costs more than parsing it.
 */
async function readWholeFile(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

export interface SnapshotOrBackup {
  snapshot: ReadSnapshot | undefined;
  /** The file the snapshot was read from: the checkpoint itself, or a backup. */
  from: string;
  /** Why the checkpoint file itself could not be used, when a backup was read instead. */
  damage?: CheckpointCorruptError;
}

/**
 * Reads the snapshot or, when it is damaged, the first good file of `backups`. A missing snapshot
 * is damage too when anything of it is left — records in its journal, or backups (a completed
 * run deletes its backups before its snapshot): a checkpoint never silently starts from nothing.
 * Only reads: moving the damaged file aside is the caller's decision.
 * @throws CheckpointCorruptError (the snapshot's own problem) when no backup is good either
 */
export async function readSnapshotOrBackup(
  file: string,
  format: SnapshotFormat,
  backups: readonly string[],
  haveJournal: boolean,
): Promise<SnapshotOrBackup> {
  let damage: CheckpointCorruptError | undefined;
  try {
    const snapshot = await readSnapshot(file, format);
    if (snapshot) return { snapshot, from: file };
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError)) throw error;
    damage = error;
  }
  let backupsLeft = false;
  for (const backup of backups) {
    let snapshot: ReadSnapshot | undefined;
    try {
      snapshot = await readSnapshot(backup, format);
    } catch {
      backupsLeft = true;
      continue;
    }
    if (snapshot) return { snapshot, from: backup, damage: damage ?? missing(file, haveJournal ? 'but its journal exists' : 'but its backups are still there') };
  }
  if (damage) throw damage;
  if (haveJournal) throw missing(file, 'but its journal exists');
  if (backupsLeft) throw missing(file, 'and none of its backups is good');
  return { snapshot: undefined, from: file };
}

const missing = (file: string, why: string): CheckpointCorruptError => new CheckpointCorruptError(file, [{ path: '', message: `missing, ${why}` }]);
