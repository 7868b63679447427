/**
 * Corruption fuzzing: random damage to the bytes of a snapshot, its journal or its newest backup
 * (flipped bytes, cuts, inserted garbage, invalid UTF-8, a whole file replaced). Opening the
 * checkpoint afterwards must end in one of: the data as saved, a recovery from a backup (with
 * its `recovered` warning), or a typed CheckpointError — never another exception, never a
 * polluted Object.prototype, never a silent start from nothing.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { assertNoPollution } from './pollution.js';

export type CorruptFormat = 'json' | 'yaml';

const STEP = 'enrich';
const COMPLETED = 40;

type Damage =
  | { kind: 'flip'; at: number[]; xor: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; bytes: Uint8Array };

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.array(fraction, { minLength: 1, maxLength: 6 }), xor: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 6, maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fraction }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fraction, length: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replace' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
);
const target = fc.constantFrom('snapshot', 'journal', 'backup', 'snapshot+journal', 'snapshot+backup');

function applyDamage(file: string, how: Damage): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return; // That file does not exist in this layout.
  }
  const position = (f: number): number => Math.floor(f * bytes.length);
  switch (how.kind) {
    case 'flip':
      how.at.forEach((f, i) => {
        if (bytes.length > 0) bytes[position(f)]! ^= how.xor[i]!;
      });
      break;
    case 'truncate':
      bytes = bytes.subarray(0, position(how.at));
      break;
    case 'insert':
      bytes = Buffer.concat([bytes.subarray(0, position(how.at)), how.bytes, bytes.subarray(position(how.at))]);
      break;
    case 'delete':
      bytes = Buffer.concat([bytes.subarray(0, position(how.at)), bytes.subarray(position(how.at) + how.length)]);
      break;
    case 'replace':
      bytes = Buffer.from(how.bytes);
      break;
  }
  writeFileSync(file, bytes);
}

/** A checkpoint with a snapshot, two backups and a journal holding the last marks — what a killed run leaves. */
async function buildBase(format: CorruptFormat): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'checkpointer-corrupt-work-'));
  const base = mkdtempSync(join(tmpdir(), 'checkpointer-corrupt-base-'));
  const path = join(work, `checkpoint.${format}`);
  let cp = await CheckpointManager.open({ path, pipeline: 'fuzz', backups: 2, minCompactBytes: 1 << 20 });
  for (let i = 0; i < COMPLETED - 10; i++) await cp.markItemCompleted(STEP, `item-${i}`);
  await cp.setContext({ model: 'x', nested: { list: [1, 2, 3] } });
  await cp.increment('cost', 7);
  await cp.close();
  cp = await CheckpointManager.open({ path, pipeline: 'fuzz', backups: 2, minCompactBytes: 1 << 20 });
  for (let i = COMPLETED - 10; i < COMPLETED - 5; i++) await cp.markItemCompleted(STEP, `item-${i}`);
  await cp.close();
  cp = await CheckpointManager.open({ path, pipeline: 'fuzz', backups: 2, minCompactBytes: 1 << 20 });
  for (let i = COMPLETED - 5; i < COMPLETED; i++) await cp.markItemCompleted(STEP, `item-${i}`);
  await cp.markItemFailed(STEP, 'bad-item', new Error('boom'));
  await cp.flush();
  for (const name of readdirSync(work)) if (!name.endsWith('.lock')) copyFileSync(join(work, name), join(base, name));
  await cp.close();
  rmSync(work, { recursive: true, force: true });
  return base;
}

export interface CorruptionResult {
  cases: number;
  recovered: number;
  typedErrors: number;
  /** Opened with every item as saved (the damage hit nothing that mattered, or a torn journal tail). */
  unchanged: number;
  /** Opened, without a recovery, with different content: damage no format can detect (a flipped letter in a key). */
  altered: number;
  failures: number;
  report?: string;
}

export async function runCorruptionFuzz(format: CorruptFormat, numRuns: number, seed?: number): Promise<CorruptionResult> {
  const base = await buildBase(format);
  const counts = { recovered: 0, typedErrors: 0, unchanged: 0, altered: 0 };
  const name = `checkpoint.${format}`;
  const property = fc.asyncProperty(target, damage, damage, async (where, first, second) => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-corrupt-'));
    try {
      for (const file of readdirSync(base)) copyFileSync(join(base, file), join(directory, file));
      const path = join(directory, name);
      const files = { snapshot: path, journal: `${path}.journal`, backup: `${path}.bak` };
      const [a, b] = where.split('+') as Array<keyof typeof files>;
      applyDamage(files[a!], first);
      if (b) applyDamage(files[b], second);
      const warnings: string[] = [];
      let cp: CheckpointManager;
      try {
        cp = await CheckpointManager.open({ path, pipeline: 'fuzz', backups: 2, logger: { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) } });
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw new Error(`an untyped error: ${String(error)}`, { cause: error });
        counts.typedErrors++;
        assertNoPollution();
        return;
      }
      const completed = cp.getProgressSummary().steps[STEP]?.completed ?? 0;
      await cp.close();
      assertNoPollution();
      if (warnings.some((warning) => /loaded the backup/.test(warning))) counts.recovered++;
      else if (completed === COMPLETED) counts.unchanged++;
      else if (completed === 0) throw new Error(`opened as an empty checkpoint without a word (warnings: ${warnings.join('; ') || 'none'})`);
      else counts.altered++;
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
  const details = await fc.check(property, { numRuns, ...(seed === undefined ? {} : { seed }) });
  rmSync(base, { recursive: true, force: true });
  return { cases: details.numRuns, ...counts, failures: details.failed ? 1 : 0, ...(details.failed ? { report: `${fc.defaultReportMessage(details) ?? 'failed'}\n${String(details.errorInstance)}` } : {}) };
}
