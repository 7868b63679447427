/**
 * Model-based fuzzing: random sequences of API calls run against a CheckpointManager and against
 * a few Maps that say what the answer should be. After every call (and every reopen, which is a
 * resume) the manager must agree with the model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { CheckpointOptions } from '../../src/manager/options.js';
import type { JsonObject } from '../../src/core/json.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { assertNoPollution } from './pollution.js';

export type ModelStore = 'memory' | 'json' | 'yaml';

const STEPS = ['a', 'b', '__proto__'] as const;
const KEYS = ['k0', 'k1', 'k2', 'constructor', '__proto__'] as const;
const key = fc.constantFrom(...KEYS);
const step = fc.constantFrom(...STEPS);

type Command =
  | { op: 'inProgress' | 'completed' | 'failed'; step: string; key: string }
  | { op: 'stage'; stage: string }
  | { op: 'context'; context: JsonObject }
  | { op: 'counter'; name: string; by: number }
  | { op: 'resetStep'; step: string }
  | { op: 'retryFailed'; step?: string }
  | { op: 'reopen' | 'flush' };

const contextValue: fc.Arbitrary<JsonObject> = fc
  .array(fc.tuple(fc.constantFrom('a', 'b', '__proto__', 'constructor', 'toString'), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 })
  .map((entries) => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as JsonObject);

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('inProgress', 'completed', 'failed'), step, key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stage'), stage: fc.constantFrom('s1', 's2', '__proto__') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('context'), context: contextValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('counter'), name: fc.constantFrom('cost', '__proto__', 'valueOf'), by: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('resetStep'), step }) },
  { weight: 1, arbitrary: fc.oneof(fc.record({ op: fc.constant('retryFailed'), step }), fc.constant({ op: 'retryFailed' as const })) },
  { weight: 2, arbitrary: fc.constantFrom({ op: 'reopen' as const }, { op: 'flush' as const }) },
);

interface ModelItem {
  status: 'in_progress' | 'completed' | 'failed' | 'pending';
  attempts: number;
}

/** What the checkpoint should hold: plain Maps, no cleverness. */
class Model {
  readonly steps = new Map<string, Map<string, ModelItem>>();
  readonly stages = new Set<string>();
  readonly counters = new Map<string, number>();
  context: JsonObject = {};

  apply(command: Command): void {
    switch (command.op) {
      case 'inProgress':
      case 'completed':
      case 'failed': {
        const items = this.steps.get(command.step) ?? new Map<string, ModelItem>();
        this.steps.set(command.step, items);
        const item = items.get(command.key);
        if (command.op === 'completed' && item?.status === 'completed') return;
        const status = command.op === 'inProgress' ? 'in_progress' : command.op;
        items.set(command.key, { status, attempts: item?.status === 'in_progress' && command.op !== 'inProgress' ? item.attempts : (item?.attempts ?? 0) + 1 });
        return;
      }
      case 'stage':
        this.stages.add(command.stage);
        return;
      case 'context':
        this.context = command.context;
        return;
      case 'counter':
        this.counters.set(command.name, (this.counters.get(command.name) ?? 0) + command.by);
        return;
      case 'resetStep':
        this.steps.delete(command.step);
        return;
      case 'retryFailed':
        for (const [name, items] of this.steps) {
          if (command.step !== undefined && command.step !== name) continue;
          for (const [itemKey, item] of items) if (item.status === 'failed') items.delete(itemKey);
        }
        return;
      case 'reopen':
        // A resume: items left in progress were interrupted and are pending again.
        for (const items of this.steps.values()) for (const item of items.values()) if (item.status === 'in_progress') item.status = 'pending';
        return;
      case 'flush':
        return;
    }
  }
}

/** Every difference between the manager and the model, in words. */
function differences(cp: CheckpointManager, model: Model): string[] {
  const out: string[] = [];
  for (const name of STEPS) {
    for (const itemKey of KEYS) {
      const expected = model.steps.get(name)?.get(itemKey);
      const actual = cp.getItem(name, itemKey);
      if (actual.status !== (expected?.status ?? 'pending')) out.push(`${name}/${itemKey}: status ${actual.status}, model ${expected?.status ?? 'pending'}`);
      // Attempts of completed items are not tracked item by item (a Set holds them); check the others.
      if (expected && expected.status !== 'completed' && actual.attempts !== expected.attempts) out.push(`${name}/${itemKey}: attempts ${actual.attempts}, model ${expected.attempts}`);
    }
  }
  for (const stage of ['s1', 's2', '__proto__']) if (cp.isStageCompleted(stage) !== model.stages.has(stage)) out.push(`stage ${stage}`);
  for (const name of ['cost', '__proto__', 'valueOf']) if (cp.getCounter(name) !== (model.counters.get(name) ?? 0)) out.push(`counter ${name}: ${cp.getCounter(name)}, model ${model.counters.get(name) ?? 0}`);
  if (JSON.stringify(cp.context) !== JSON.stringify(model.context)) out.push(`context ${JSON.stringify(cp.context)}, model ${JSON.stringify(model.context)}`);
  return out;
}

async function runCommands(store: ModelStore, commands: Command[], compactBytes: number): Promise<void> {
  const directory = store === 'memory' ? undefined : mkdtempSync(join(tmpdir(), 'checkpointer-fuzz-'));
  const memory = new MemoryStore();
  const quiet = { warn: () => {}, error: () => {} };
  const options = (): CheckpointOptions =>
    directory ? { path: join(directory, `checkpoint.${store}`), minCompactBytes: compactBytes, backups: 2, logger: quiet } : { store: memory, logger: quiet };
  const model = new Model();
  let cp = await CheckpointManager.open(options());
  try {
    for (const [index, next] of commands.entries()) {
      switch (next.op) {
        case 'inProgress': await cp.markItemInProgress(next.step, next.key); break;
        case 'completed': await cp.markItemCompleted(next.step, next.key); break;
        case 'failed': await cp.markItemFailed(next.step, next.key, new Error(`failed at ${index}`)); break;
        case 'stage': await cp.markStageCompleted(next.stage); break;
        case 'context': await cp.setContext(next.context); break;
        case 'counter': await cp.increment(next.name, next.by); break;
        case 'resetStep': await cp.resetStep(next.step); break;
        case 'retryFailed': await cp.retryFailedItems(next.step); break;
        case 'flush': await cp.flush(); break;
        case 'reopen':
          await cp.close();
          cp = await CheckpointManager.open(options());
          break;
      }
      model.apply(next);
      const wrong = differences(cp, model);
      if (wrong.length > 0) throw new Error(`after command ${index} (${JSON.stringify(next)}): ${wrong.join('; ')}`);
    }
    await cp.close();
    cp = await CheckpointManager.open(options());
    model.apply({ op: 'reopen' });
    const wrong = differences(cp, model);
    if (wrong.length > 0) throw new Error(`after the final reopen: ${wrong.join('; ')}`);
    assertNoPollution();
  } finally {
    await cp.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
}

export interface FuzzResult {
  cases: number;
  commands: number;
  failures: number;
  /** fast-check's report (seed, path, shrunk counterexample) when a case failed. */
  report?: string;
}

export async function runModelFuzz(store: ModelStore, numRuns: number, seed?: number): Promise<FuzzResult> {
  let commands = 0;
  const property = fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), fc.constantFrom(256, 4096), async (list, compactBytes) => {
    commands += list.length;
    await runCommands(store, list, compactBytes);
  });
  const details = await fc.check(property, { numRuns, ...(seed === undefined ? {} : { seed }) });
  return { cases: details.numRuns, commands, failures: details.failed ? 1 : 0, ...(details.failed ? { report: `${fc.defaultReportMessage(details) ?? 'failed'}\n${String(details.errorInstance)}` } : {}) };
}
