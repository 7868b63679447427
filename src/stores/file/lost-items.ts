import { readFile } from 'node:fs/promises';
import { isJsonObject, type JsonValue } from '../../core/json.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { CheckpointState } from '../../core/state.js';
import type { SnapshotFormat } from './snapshot-formats.js';

/** Completed items a damaged snapshot held that the checkpoint recovered without it lacks. */
export interface LostItems {
  total: number;
  /** By step, only the steps that lost any. */
  steps: Record<string, number>;
}

/**
 * Counts the completed items of a damaged snapshot that the recovered checkpoint — the backup
 * plus the journal replayed over it — does not have: the work a recovery could not bring back,
 * which will be done again. The damaged file is read leniently (no checksum, no schema), since
 * damage is often one flipped byte or a hand edit that leaves the item lists readable.
 * @returns `undefined` when the damaged file is missing or cannot be parsed: how many is not known
 */
export async function countLostItems(
  damagedFile: string,
  format: SnapshotFormat,
  recovered: CheckpointDocument | undefined,
  changes: readonly CheckpointChange[],
): Promise<LostItems | undefined> {
  const damagedSteps = await readCompletedLeniently(damagedFile, format);
  if (!damagedSteps) return undefined;
  const state = recovered ? CheckpointState.fromDocument(recovered) : undefined;
  if (state) for (const change of changes) state.apply(change);
  const lost: LostItems = { total: 0, steps: {} };
  for (const [step, keys] of damagedSteps) {
    const completed = state?.steps.get(step)?.completed;
    let count = 0;
    for (const key of keys) if (!completed?.has(key)) count++;
    if (count === 0) continue;
    lost.steps[step] = count;
    lost.total += count;
  }
  return lost;
}

/** The completed keys of each step of a snapshot read without trusting it, or `undefined`. */
async function readCompletedLeniently(file: string, format: SnapshotFormat): Promise<Map<string, Set<string>> | undefined> {
  let raw: unknown;
  try {
    raw = format.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isJsonObject(raw) || !isJsonObject(raw.steps)) return undefined;
  const steps = new Map<string, Set<string>>();
  for (const [name, step] of Object.entries(raw.steps)) {
    if (!isJsonObject(step)) continue;
    const keys = new Set<string>();
    for (const key of list(step.completedItems)) if (typeof key === 'string') keys.add(key);
    for (const detail of list(step.completedDetails)) if (isJsonObject(detail) && typeof detail.key === 'string') keys.add(detail.key);
    steps.set(name, keys);
  }
  return steps;
}

const list = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);

/** Says what `lost` means for the user, e.g. `3 completed item(s) (enrich: 2, train: 1)`. */
export function describeLostItems(lost: LostItems): string {
  const bySteps = Object.entries(lost.steps).slice(0, 5).map(([step, count]) => `${step}: ${count}`);
  const more = Object.keys(lost.steps).length > 5 ? ', …' : '';
  return `${lost.total} completed item(s) (${bySteps.join(', ')}${more})`;
}
