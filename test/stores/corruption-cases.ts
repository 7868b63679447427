import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { seededRandom as random } from '../support/processes.js';
import { tempDir } from './helpers.js';

interface Original {
  path: string;
  snapshot: Buffer;
  backup: Buffer;
  /** What a correct open of the snapshot / of the backup shows. */
  current: string;
  previous: string;
  items: string[];
}

/** What the suite compares: the parts of the state a resumed run depends on. */
function view(cp: CheckpointManager, items: readonly string[]): string {
  const summary = cp.getProgressSummary();
  return JSON.stringify({ runId: cp.runId, pending: cp.pendingItems('s', items), steps: summary.steps, stages: summary.stages, counters: summary.counters, context: cp.context });
}

const quiet = (logs: string[]) => ({ warn: (message: string) => logs.push(message), error: (message: string) => logs.push(message) });

/** Two runs, so that `.bak` is a good older snapshot; returns both files' bytes. */
async function makeCheckpoint(extension: 'json' | 'yaml', count: number): Promise<Original> {
  const path = join(tempDir(), `cp.${extension}`);
  const items = Array.from({ length: count }, (_, i) => `item-${i}`);
  // Compaction only on close, so that `.bak` is exactly the first run's snapshot.
  const options = { path, pipeline: 'fuzz', config: { model: 'x' }, minCompactBytes: 2 ** 40 };
  let cp = await CheckpointManager.open(options);
  for (const item of items.slice(0, count / 2)) await cp.markItemCompleted('s', item);
  await cp.markItemFailed('s', 'broken', 'it broke');
  await cp.markStageCompleted('download', { files: 2 });
  await cp.close();
  cp = await CheckpointManager.open(options);
  const previous = view(cp, items);
  for (const item of items.slice(count / 2)) await cp.markItemCompleted('s', item);
  await cp.setContext({ note: 'ünïcode ✓', list: [1, 2] });
  await cp.increment('tokens', 42);
  const current = view(cp, items);
  await cp.close();
  return { path, snapshot: readFileSync(path), backup: readFileSync(`${path}.bak`), current, previous, items };
}

type Outcome = 'recovered' | 'intact' | 'as-on-disk' | 'typed-error';

/**
 * Writes `damaged` as the snapshot (with or without the good backup), opens it, and checks that
 * the result is one of the allowed outcomes: never an unexpected exception, never a silent empty start.
 */
async function openDamaged(original: Original, damaged: Buffer, withBackup: boolean, directory = tempDir()): Promise<Outcome> {
  const path = join(directory, basename(original.path));
  for (const name of readdirSync(directory)) rmSync(join(directory, name), { recursive: true, force: true });
  writeFileSync(path, damaged);
  if (withBackup) writeFileSync(`${path}.bak`, original.backup);
  const logs: string[] = [];
  let cp: CheckpointManager;
  try {
    // lock: false keeps each of the many opens cheap; recovery works the same way.
    cp = await CheckpointManager.open({ path, pipeline: 'fuzz', config: { model: 'x' }, logger: quiet(logs), lock: false });
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw new Error(`untyped failure: ${String(error)}`, { cause: error });
    return 'typed-error';
  }
  try {
    const seen = view(cp, original.items);
    if (logs.some((line) => line.includes('loaded the backup'))) {
      expect(seen).toBe(original.previous);
      return 'recovered';
    }
    if (seen === original.current) return 'intact';
    // Damage that still parses (a flipped letter in a key) is read as it is on disk — in particular the
    // run id is the one in the file, not a new one, so this is not a fresh start.
    expect(damaged.toString('utf8')).toContain(cp.runId);
    return 'as-on-disk';
  } finally {
    await cp.close();
  }
}

/**
 * Runs `check(i, directory)` for i in [0, count) on a few lanes, each with its own directory:
 * most of an open's time is fsync latency, which overlaps well.
 */
async function inLanes(count: number, check: (i: number, directory: string) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    const directory = tempDir();
    while (next < count) await check(next++, directory);
  };
  await Promise.all(Array.from({ length: 6 }, lane));
}

/** The corruption cases for one format; each format's file runs in its own worker. */
export function describeCorruption(extension: 'json' | 'yaml'): void {
  describe(`damaged ${extension} checkpoints`, () => {
    it('truncated at every byte offset of a small file: recovery from the backup', async () => {
      const original = await makeCheckpoint(extension, 4);
      const outcomes = new Map<Outcome, number>();
      await inLanes(original.snapshot.length, async (length, directory) => {
        const outcome = await openDamaged(original, original.snapshot.subarray(0, length), true, directory);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (outcome !== 'recovered' && outcome !== 'intact') throw new Error(`truncation at ${length} gave ${outcome}`);
      });
      expect(outcomes.get('recovered')).toBeGreaterThan(original.snapshot.length * 0.9);
    }, 120_000);

    it('truncated at every byte offset without a backup: a typed error or the intact state', async () => {
      const original = await makeCheckpoint(extension, 2);
      await inLanes(original.snapshot.length, async (length, directory) => {
        const outcome = await openDamaged(original, original.snapshot.subarray(0, length), false, directory);
        if (outcome !== 'typed-error' && outcome !== 'intact') throw new Error(`truncation at ${length} gave ${outcome}`);
      });
      expect(await openDamaged(original, original.snapshot, false)).toBe('intact');
    }, 120_000);

    it('truncated at random offsets of a 20,000-item file', async () => {
      const original = await makeCheckpoint(extension, 20_000);
      const next = random(extension === 'json' ? 20 : 21);
      for (let i = 0; i < (extension === 'json' ? 12 : 6); i++) {
        const length = Math.floor(next() * original.snapshot.length);
        const outcome = await openDamaged(original, original.snapshot.subarray(0, length), true);
        if (outcome !== 'recovered' && outcome !== 'intact') throw new Error(`truncation at ${length} gave ${outcome}`);
      }
    }, 120_000);

    it('random byte flips (seeded): recovery, a typed error, or exactly what is on disk', async () => {
      const original = await makeCheckpoint(extension, 6);
      const next = random(extension === 'json' ? 1 : 2);
      const outcomes = new Map<Outcome, number>();
      for (let i = 0; i < 100; i++) {
        const damaged = Buffer.from(original.snapshot);
        const flips = 1 + Math.floor(next() * 3);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(next() * damaged.length);
          damaged[at] = damaged[at]! ^ (1 + Math.floor(next() * 255));
        }
        const withBackup = i % 2 === 0;
        const outcome = await openDamaged(original, damaged, withBackup);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (!withBackup) expect(outcome).not.toBe('recovered');
      }
      expect((outcomes.get('recovered') ?? 0) + (outcomes.get('typed-error') ?? 0)).toBeGreaterThan(50);
    }, 120_000);

    it('garbage content gives a typed error, or recovery when a backup is good', async () => {
      const original = await makeCheckpoint(extension, 2);
      const garbage = [
        '',
        ' ',
        '\u0000\u0000\u0000',
        'null',
        '[]',
        '42',
        '"a string"',
        '{}',
        '{"version": 1}',
        '{"version": "1"}',
        '{"version": 1e400}',
        '{"steps": 5}',
        '{"steps": {"s": {"completedItems": []}}}',
        '{"metadata": {"runId": "r"}, "steps": {}, "stages": [], "context": {}, "counters": {}, "errors": []}',
        `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
        `{"version": 1, "context": ${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
        '---\n- a\n- b\n',
        'version: 1\nmetadata: &m\n  runId: *m\n',
        'key: [unclosed',
        '\ufeff{"version": 1}',
        '<?xml version="1.0"?><checkpoint/>',
        Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x80]).toString('latin1'),
      ];
      for (const text of garbage) {
        const without = await openDamaged(original, Buffer.from(text), false);
        expect(`${JSON.stringify(text.slice(0, 40))}: ${without}`).toBe(`${JSON.stringify(text.slice(0, 40))}: typed-error`);
        expect(await openDamaged(original, Buffer.from(text), true)).toBe('recovered');
      }
    }, 120_000);
  });
}
