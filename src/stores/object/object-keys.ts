/**
 * The objects of one checkpoint `<key>` in its bucket. Only names of this shape are ever read or
 * deleted: everything else beside the checkpoint belongs to someone else.
 *   <key>                                   the snapshot: the human-readable JSON/YAML document
 *   <key>.bak                               the snapshot before the latest one
 *   <key>.lease                             who writes the checkpoint, until when, in which epoch
 *   <key>.segments/<epoch>-<first>-<last>   changes first…last, written by the holder of epoch
 */
export interface SegmentName {
  key: string;
  epoch: number;
  first: number;
  last: number;
}

const EPOCH_DIGITS = 10;
const SEQUENCE_DIGITS = 15;
const SEGMENT_NAME = /^(\d{10})-(\d{15})-(\d{15})$/;

/**
 * Whether `key` names a snapshot the way every cloud stores it: ending in .json, .yaml or .yml,
 * with no empty, `.` or `..` path segment (a leading `/` is an empty one), no backslash and no
 * control character. SDKs resolve such
 * segments in the request URL, so the objects would be written under another name than the one
 * they are later read by.
 */
export const isSnapshotKey = (key: string): boolean => /\.(json|ya?ml)$/i.test(key) && !hasUnsafeSegment(key) && !hasUnsafeCharacter(key);

/** Whether `path` has an empty, `.` or `..` segment between its slashes, which SDKs would resolve away. */
export const hasUnsafeSegment = (path: string): boolean => path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');

/**
 * Whether `path` holds a backslash, which URL parsers (the Azure SDK's among them) turn into a
 * `/`, or a control character (a NUL, a newline), which requests and listings do not carry as
 * written: the objects would not be found by the name they were written under.
 */
export const hasUnsafeCharacter = (path: string): boolean => /[\\\u0000-\u001f\u007f]/.test(path);

export const leaseKey = (key: string): string => `${key}.lease`;
export const backupKey = (key: string): string => `${key}.bak`;
export const segmentPrefix = (key: string): string => `${key}.segments/`;

/** Zero-padded, so that key order (the order a bucket lists in) is epoch order, then sequence order. */
export function segmentKey(key: string, epoch: number, first: number, last: number): string {
  const pad = (value: number, digits: number): string => String(value).padStart(digits, '0');
  return `${segmentPrefix(key)}${pad(epoch, EPOCH_DIGITS)}-${pad(first, SEQUENCE_DIGITS)}-${pad(last, SEQUENCE_DIGITS)}`;
}

/** The segment an object key names, or `undefined` if it is not one of ours. */
export function parseSegmentKey(key: string, objectKey: string): SegmentName | undefined {
  const prefix = segmentPrefix(key);
  if (!objectKey.startsWith(prefix)) return undefined;
  const match = SEGMENT_NAME.exec(objectKey.slice(prefix.length));
  if (!match) return undefined;
  const [epoch, first, last] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return first <= last ? { key: objectKey, epoch, first, last } : undefined;
}
