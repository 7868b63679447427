import { randomUUID } from 'node:crypto';
import type { CheckpointDocument } from '../../core/model.js';

/** How a file store turns a document into text and back. */
export interface SnapshotFormat {
  readonly name: string;
  /** Parses text; throws (any error) if the text is not valid in this format. */
  parse(text: string): unknown;
  /** Renders everything but the completed-item lists, which stand as placeholder strings. */
  skeleton(document: object): string;
  /** Renders one completed-item list for the line indented by `indent`. */
  items(keys: readonly string[], indent: string): string;
}

/** A snapshot file's content: the document plus the last journal sequence it contains. */
export type SnapshotContent = CheckpointDocument & { sequence: number };

const CHUNK = 20_000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Renders a snapshot without blocking the event loop for long: the completed-item lists (the
 * bulk of a big checkpoint) are rendered in chunks with a yield between them, and each chunk is
 * encoded to bytes as it is made, so marks keep flowing while a million-item snapshot is written.
 * The result is bytes rather than one big string: joining and then encoding a 30 MB string are
 * each one long synchronous step, and the file writer would otherwise encode it again.
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
  const pattern = new RegExp(`["']?${nonce}(\\d+)@@["']?`, 'g');
  let last = 0;
  for (let match = pattern.exec(skeleton); match; match = pattern.exec(skeleton)) {
    const lineStart = skeleton.lastIndexOf('\n', match.index) + 1;
    const indent = /^\s*/.exec(skeleton.slice(lineStart, match.index))![0];
    parts.push(Buffer.from(skeleton.slice(last, match.index)));
    const keys = lists[Number(match[1])]!;
    if (keys.length <= CHUNK) {
      parts.push(Buffer.from(format.items(keys, indent)));
    } else {
      // Render chunk by chunk; each chunk is a complete list, so stitch their inner lines.
      const count = Math.ceil(keys.length / CHUNK);
      for (let chunk = 0; chunk < count; chunk++) {
        const text = format.items(keys.slice(chunk * CHUNK, (chunk + 1) * CHUNK), indent);
        parts.push(Buffer.from(stitch(text, chunk, count, format)));
        await yieldToEventLoop();
      }
    }
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(skeleton.slice(last)));
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
