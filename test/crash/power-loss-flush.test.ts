// Must come first: it wraps node:fs before the library binds to it.
import { disk, materialize, type DurableState } from './power-loss-fs.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { Durability } from '../../src/stores/file/file-store-options.js';

/**
 * A new journal's name survives a power cut only once its directory is fsynced. One sync (a
 * flush, a group commit) starts that directory fsync; any other sync that runs while it is in
 * flight must wait for it too, or it acknowledges records whose file may vanish in a cut.
 * Here the directory fsync is held at a gate, so the ordering is the same on every run.
 */

const require = createRequire(import.meta.url);
const fsPromises = require('node:fs/promises') as typeof FsPromises;
const modelOpen = fsPromises.open;
let gate: { directory: string; reached: () => void; released: Promise<void> } | undefined;
(fsPromises as unknown as Record<string, unknown>).open = async (...args: Parameters<typeof FsPromises.open>) => {
  const handle = await modelOpen(...args);
  const held = gate;
  if (held && String(args[0]) === held.directory) {
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      held.reached();
      await held.released;
      await sync();
    };
  }
  return handle;
};
syncBuiltinESMExports();

const directories: string[] = [];
const fresh = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-flush-'));
  directories.push(directory);
  return directory;
};
afterEach(() => {
  gate = undefined;
  disk.stop();
});
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const quiet = { warn: () => {}, error: () => {} };

/** A checkpoint whose journal file does not exist yet: the next open creates it under a name not yet durable. */
async function checkpointWithoutJournal(durability: Durability): Promise<{ directory: string; path: string }> {
  const directory = fresh();
  const path = join(directory, 'checkpoint.json');
  const first = await CheckpointManager.open({ path, pipeline: 'flush', durability, logger: quiet });
  await first.close();
  rmSync(`${path}.journal`, { force: true });
  disk.watch(directory);
  return { directory, path };
}

/** Holds every fsync of `directory` until released; resolves `reached` when the first one arrives. */
function holdDirectorySyncs(directory: string): { reached: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  gate = { directory, reached, released: new Promise<void>((resolve) => (release = resolve)) };
  return { reached: reachedPromise, release };
}

/** Resolves once the journal was fdatasynced `count` times since `from` events, and pending callbacks have run. */
async function journalSyncs(from: number, count: number): Promise<void> {
  const done = (): boolean => disk.events.slice(from).filter((event) => event.kind === 'fsync' && event.file.endsWith('.journal')).length >= count;
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setImmediate(resolve));
}

async function completedAfterCut(state: DurableState, key: string): Promise<boolean> {
  const after = fresh();
  materialize(state, after);
  const reopened = await CheckpointManager.open({ path: join(after, 'checkpoint.json'), pipeline: 'flush', logger: quiet });
  const completed = reopened.isItemCompleted('work', key);
  await reopened.close();
  return completed;
}

describe('a sync that finds the directory fsync of a new journal in flight waits for it', () => {
  it("'full': a mark made during flush() is acknowledged only once the new journal's name is durable", async () => {
    const { directory, path } = await checkpointWithoutJournal('full');
    const cp = await CheckpointManager.open({ path, pipeline: 'flush', durability: 'full', logger: quiet });
    const held = holdDirectorySyncs(directory);
    const from = disk.events.length;
    const flushing = cp.flush();
    await held.reached;
    let acknowledged: DurableState | undefined;
    const marking = cp.markItemCompleted('work', 'a').then(() => (acknowledged = disk.capture()));
    // The flush's fdatasync and the mark's: the mark is on disk, its file's name not yet.
    await journalSyncs(from, 2);
    const early = acknowledged !== undefined;
    held.release();
    await Promise.all([flushing, marking]);
    await cp.close();
    expect(await completedAfterCut(acknowledged!, 'a'), 'the acknowledged mark survives a cut at the moment it was acknowledged').toBe(true);
    expect(early, 'acknowledged before the directory fsync finished').toBe(false);
  });

  it("'normal': a second flush() during the first resolves only once the new journal's name is durable", async () => {
    const { directory, path } = await checkpointWithoutJournal('normal');
    const cp = await CheckpointManager.open({ path, pipeline: 'flush', durability: 'normal', logger: quiet });
    await cp.markItemCompleted('work', 'a');
    const held = holdDirectorySyncs(directory);
    const from = disk.events.length;
    const first = cp.flush();
    await held.reached;
    let flushed: DurableState | undefined;
    const second = cp.flush().then(() => (flushed = disk.capture()));
    await journalSyncs(from, 2);
    const early = flushed !== undefined;
    held.release();
    await Promise.all([first, second]);
    await cp.close();
    expect(await completedAfterCut(flushed!, 'a'), 'a mark flushed survives a cut at the moment the flush resolved').toBe(true);
    expect(early, 'flush resolved before the directory fsync finished').toBe(false);
  });
});
