import { randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { CheckpointDocument } from '../../core/model.js';
import { finishCrc32, updateCrc32Ascii } from './crc32.js';

/** How a file store turns a document into text and back. */
export interface SnapshotFormat {
  readonly name: string;
  /** Parses text; throws (any error) if the text is not valid in this format. */
  parse(text: string): unknown;
  /** Renders everything but the completed-item lists, which stand as placeholder strings. */
  skeleton(document: object): string;
  /** Renders one completed-item list for the line indented by `indent`. */
  items(keys: readonly string[], indent: string): string;
  /**
   * The checksum line this format writes (e.g. `  "checksum": "crc32:1a2b3c4d",\n`) and how many
   * bytes of a rendering without one come before it. It is the first field, so that a file cut
   * short anywhere no longer matches its checksum.
   */
  checksumLine(checksum: string): { offset: number; line: string };
  /** The line {@link checksumLine} wrote, where it writes it: its checksum and its place in `text`. */
  findChecksum(text: string): FoundChecksum | undefined;
}

export interface FoundChecksum {
  /** `crc32:` and 8 hex digits. */
  checksum: string;
  /** Where the checksum line starts and ends in the text (it is ASCII, and so is all before it). */
  start: number;
  end: number;
}

/** A snapshot file's content: the document plus the last journal sequence it contains. */
export type SnapshotContent = CheckpointDocument & { sequence: number };

// zlib.crc32 (Node >= 20.15) is native and continues from a previous checksum; older Nodes run
// the table over the bytes as latin1 text, whose UTF-16 units are the bytes.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The CRC-32 of the bytes before `bytes` (0 for none) continued over `bytes`. */
export function continueCrc32(crc: number, bytes: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(bytes, crc);
  return finishCrc32(updateCrc32Ascii(crc ^ -1, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')));
}

/** How a snapshot's checksum is written: `crc32:` and 8 lowercase hex digits. */
export const formatChecksum = (crc: number): string => `crc32:${crc.toString(16).padStart(8, '0')}`;

const CHUNK = 20_000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Renders a snapshot without blocking the event loop for long: the completed-item lists (the
 * bulk of a big checkpoint) are rendered in chunks with a yield between them, and each chunk is
 * encoded to bytes as it is made, so marks keep flowing while a million-item snapshot is written.
 * The result is bytes rather than one big string: joining and then encoding a 30 MB string are
 * each one long synchronous step, and the file writer would otherwise encode it again.
 * The checksum line goes first; it covers the rendering without it, taken chunk by chunk as
 * each is encoded, so a big snapshot is not read through once more.
 */
export async function renderSnapshot(format: SnapshotFormat, document: CheckpointDocument, sequence: number): Promise<Buffer> {
  const nonce = `@@checkpointer-items-${randomUUID()}-`;
  const lists: string[][] = [];
  const steps = Object.fromEntries(
    Object.entries(document.steps).map(([name, step]) => {
      lists.push(step.completedItems);
      return [name, { ...step, completedItems: `${nonce}${lists.length - 1}@@` }];
    }),
  );
  const { version, ...rest } = document;
  const skeleton = format.skeleton({ version, sequence, ...rest, steps });
  const parts: Buffer[] = [];
  let crc = 0;
  const add = (text: string): void => {
    const bytes = Buffer.from(text);
    crc = continueCrc32(crc, bytes);
    parts.push(bytes);
  };
  const pattern = new RegExp(`["']?${nonce}(\\d+)@@["']?`, 'g');
  let last = 0;
  for (let match = pattern.exec(skeleton); match; match = pattern.exec(skeleton)) {
    const lineStart = skeleton.lastIndexOf('\n', match.index) + 1;
    const indent = /^\s*/.exec(skeleton.slice(lineStart, match.index))![0];
    add(skeleton.slice(last, match.index));
    const keys = lists[Number(match[1])]!;
    if (keys.length <= CHUNK) {
      add(format.items(keys, indent));
    } else {
      // Render chunk by chunk; each chunk is a complete list, so stitch their inner lines.
      const count = Math.ceil(keys.length / CHUNK);
      for (let chunk = 0; chunk < count; chunk++) {
        const text = format.items(keys.slice(chunk * CHUNK, (chunk + 1) * CHUNK), indent);
        add(stitch(text, chunk, count, format));
        await yieldToEventLoop();
      }
    }
    last = match.index + match[0].length;
  }
  add(skeleton.slice(last));
  const { offset, line } = format.checksumLine(formatChecksum(crc));
  const first = parts[0]!;
  parts.splice(0, 1, first.subarray(0, offset), Buffer.from(line), first.subarray(offset));
  return Buffer.concat(parts);
}

/** Chunk `index` of `count` separately rendered lists, made a part of one list (JSON `[...]` lists need their brackets merged). */
function stitch(chunk: string, index: number, count: number, format: SnapshotFormat): string {
  if (format.name !== 'JSON') return chunk;
  let body = chunk;
  if (index > 0) body = body.slice(body.indexOf('\n'));
  if (index < count - 1) body = `${body.slice(0, body.lastIndexOf('\n'))},`;
  return body;
}
