import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CheckpointEvents, RecoveredEvent, WarningEvent } from '../../src/core/events.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { CheckpointOptions } from '../../src/manager/options.js';
import { CheckpointState } from '../../src/core/state.js';
import type { CheckpointStore, LoadedCheckpoint } from '../../src/stores/store.js';
import { encodeRecord } from '../../src/stores/file/journal.js';

const directories: string[] = [];
const managers: CheckpointManager[] = [];

afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close().catch(() => {});
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-store-'));
  directories.push(directory);
  return directory;
}

/** Names in `directory`, sorted, for assertions about which files exist. */
export function filesIn(directory: string): string[] {
  return readdirSync(directory).sort();
}

export interface Opened {
  cp: CheckpointManager;
  events: { [E in keyof CheckpointEvents]: CheckpointEvents[E][] };
  /** What the manager logged while opening and after: recovery from a backup shows here. */
  logs: string[];
}

/** Opens a checkpoint with event recording and a silent logger; closed after the test. */
export async function openRecorded(options: CheckpointOptions): Promise<Opened> {
  const events: Opened['events'] = { item: [], stage: [], flush: [], recovered: [], warning: [] };
  const logs: string[] = [];
  // A store emits `recovered` while opening, before a listener can be added; the manager logs it.
  const logger = { warn: (message: string) => logs.push(message), error: (message: string) => logs.push(message) };
  const cp = await CheckpointManager.open({ logger, ...options });
  managers.push(cp);
  for (const name of Object.keys(events) as (keyof CheckpointEvents)[]) {
    const record = (payload: unknown): void => {
      (events[name] as unknown[]).push(payload);
    };
    cp.on(name, record);
  }
  return { cp, events, logs };
}

/** Whether the manager reported loading a backup instead of a damaged file. */
export const recoveredFrom = (logs: readonly string[]): boolean => logs.some((line) => line.includes('loaded the backup'));

/** Opens a checkpoint that is closed after the test. */
export async function open(options: CheckpointOptions): Promise<CheckpointManager> {
  return (await openRecorded(options)).cp;
}
/** Opens a store directly, as the manager would, recording what it emits. */
export async function openStore(store: CheckpointStore): Promise<{ loaded: LoadedCheckpoint | undefined; emitted: { event: string; payload: unknown }[] }> {
  const emitted: { event: string; payload: unknown }[] = [];
  let state: CheckpointState | undefined;
  const loaded = await store.open({
    snapshot: () => state!.toDocument(),
    emit: (event, payload) => emitted.push({ event, payload }),
  });
  if (loaded) {
    state = CheckpointState.fromDocument(loaded.document);
    for (const change of loaded.changes) state.apply(change);
  }
  return { loaded, emitted };
}

/** Opens through the public API, hearing what happens while opening; closed by the caller. */
export async function openHearing(options: CheckpointOptions): Promise<{ cp: CheckpointManager; recovered: RecoveredEvent[]; warnings: WarningEvent[] }> {
  const recovered: RecoveredEvent[] = [];
  const warnings: WarningEvent[] = [];
  const logger = { warn: () => {}, error: () => {} };
  const cp = await CheckpointManager.open({ logger, ...options, on: { recovered: (event) => recovered.push(event), warning: (event) => warnings.push(event) } });
  return { cp, recovered, warnings };
}

/** A checkpoint closed twice, so that `.bak` holds the first run (items a, b) and the file the second (a, b, c). */
export async function twoRuns(path: string): Promise<void> {
  let cp = await open({ path });
  await cp.markItemCompleted('s', 'a');
  await cp.markItemCompleted('s', 'b');
  await cp.close();
  cp = await open({ path });
  await cp.markItemCompleted('s', 'c');
  await cp.close();
}

/**
 * A checkpoint at `<a temp directory>/checkpoint.json` of pipeline `pipeline` whose journal holds
 * `items` completed marks of step `enrich`, keyed `key(i)`, after its snapshot: what a writer
 * killed before any compaction leaves. @returns its path
 */
export async function checkpointWithJournal(pipeline: string, items: number, key: (i: number) => string): Promise<string> {
  const path = join(tempDir(), 'checkpoint.json');
  await (await CheckpointManager.open({ path, pipeline })).close();
  const { sequence } = JSON.parse(readFileSync(path, 'utf8')) as { sequence: number };
  const lines: string[] = [];
  for (let i = 0; i < items; i++) lines.push(encodeRecord(sequence + 1 + i, { op: 'item', step: 'enrich', key: key(i), status: 'completed', attempts: 1, at: 1_764_000_000_000 + i }));
  appendFileSync(`${path}.journal`, lines.join(''));
  return path;
}
