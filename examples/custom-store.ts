/**
 * A complete custom CheckpointStore in about 50 lines: the whole checkpoint in one JSON-lines
 * file — the first line is the saved document, every further line one change. It passes the
 * conformance suite (test/conformance/stores.test.ts), which is how you check your own.
 */
import { appendFile, readFile, rm } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import {
  parseChange,
  parseDocument,
  type CheckpointChange,
  type CheckpointDocument,
  type CheckpointStore,
  type LoadedCheckpoint,
} from '../src/index.js';

export class JsonLinesStore implements CheckpointStore {
  readonly location: string;

  constructor(readonly path: string) {
    this.location = path;
  }

  async open(): Promise<LoadedCheckpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    // A crash can cut the last line short: keep complete lines only.
    const lines = text.split('\n').slice(0, -1);
    const [first, ...rest] = lines;
    if (first === undefined) return undefined;
    return {
      document: parseDocument(JSON.parse(first), this.path),
      changes: rest.map((line, i) => parseChange(JSON.parse(line), `${this.path} line ${i + 2}`)),
    };
  }

  async append(change: CheckpointChange): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(change)}\n`);
  }

  async save(document: CheckpointDocument): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(document)}\n`);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
