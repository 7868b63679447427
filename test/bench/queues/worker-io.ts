/**
 * What the queue workers of scenario 11 share: their configuration, the line protocol with the
 * benchmark (`ready`, then `go` on stdin, `done <i,j,…>` per handled item, `stop` on stdin, then
 * `stopped {"queries":n}`), and a count of the statements each sends. Only erasable TypeScript,
 * so that the peers' workers can load it on Node 22 without tsx.
 */
import { createInterface } from 'node:readline';

export interface QueueWorkerConfig {
  url: string;
  /** A fresh schema per repetition. */
  schema: string;
  items: number;
  /** Items in flight at once in this worker. */
  concurrency: number;
  workMs: number;
  worker: number;
  /** `setup` creates the schema and enqueues every item in one batch, then exits. */
  role: 'setup' | 'work';
}

export const config = (): QueueWorkerConfig => JSON.parse(process.argv[2]!) as QueueWorkerConfig;

interface PgModule {
  Client: { prototype: { query: (...args: unknown[]) => unknown } };
}

/**
 * Counts every statement (round trip) sent through `pg`'s Client, the class its Pool hands out
 * too. `pg` must be the very module the queue loads, or nothing is counted.
 */
export function countQueries(pg: PgModule): () => number {
  let count = 0;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]): unknown {
    count++;
    return query.apply(this, args);
  };
  return () => count;
}

/** Reports handled items, the items of one turn of the event loop in one line. */
export function reporter(): (index: number) => void {
  let pending: number[] = [];
  return (index) => {
    if (pending.length === 0) setImmediate(() => {
      process.stdout.write(`done ${pending.join(',')}\n`);
      pending = [];
    });
    pending.push(index);
  };
}

const lines = createInterface({ input: process.stdin });
const seen: string[] = [];
const waiting = new Map<string, () => void>();
lines.on('line', (line) => {
  seen.push(line);
  waiting.get(line)?.();
});

/** Resolves once the benchmark has sent `line` on stdin. */
export function heard(line: string): Promise<void> {
  if (seen.includes(line)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(line, resolve));
}

export const work = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

export function stopped(queries: number): never {
  process.stdout.write(`stopped ${JSON.stringify({ queries })}\n`);
  lines.close();
  process.exit(0);
}
