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
 * bulk of a big checkpoint) are rendered in chunks with a yield between them, so marks keep
 * flowing while a million-item snapshot is written.
 */
export async function renderSnapshot(format: SnapshotFormat, document: CheckpointDocument, sequence: number): Promise<string> {
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
  const parts: string[] = [];
  const pattern = new RegExp(`["']?${nonce}(\\d+)@@["']?`, 'g');
  let last = 0;
  for (let match = pattern.exec(skeleton); match; match = pattern.exec(skeleton)) {
    const lineStart = skeleton.lastIndexOf('\n', match.index) + 1;
    const indent = /^\s*/.exec(skeleton.slice(lineStart, match.index))![0];
    parts.push(skeleton.slice(last, match.index));
    const keys = lists[Number(match[1])]!;
    if (keys.length <= CHUNK) {
      parts.push(format.items(keys, indent));
    } else {
      // Render chunk by chunk; each chunk is a complete list, so stitch their inner lines.
      const chunks: string[] = [];
      for (let i = 0; i < keys.length; i += CHUNK) {
        chunks.push(format.items(keys.slice(i, i + CHUNK), indent));
        await yieldToEventLoop();
      }
      parts.push(stitch(chunks, format));
    }
    last = match.index + match[0].length;
  }
  parts.push(skeleton.slice(last));
  return parts.join('');
}

/** Joins separately rendered lists into one (JSON `[...]` lists need their brackets merged). */
function stitch(chunks: string[], format: SnapshotFormat): string {
  if (format.name !== 'JSON') return chunks.join('');
  return chunks
    .map((chunk, i) => {
      let body = chunk;
      if (i > 0) body = body.slice(body.indexOf('\n'));
      if (i < chunks.length - 1) body = `${body.slice(0, body.lastIndexOf('\n'))},`;
      return body;
    })
    .join('');
}
