import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, MemoryStore, type CheckpointChange, type JsonObject } from '../../src/index.js';

/** A MemoryStore that remembers every change it was handed, to prove a refused call wrote nothing. */
class RecordingStore extends MemoryStore {
  readonly appended: CheckpointChange[] = [];
  override append(change: CheckpointChange): Promise<void> {
    this.appended.push(change);
    return super.append(change);
  }
}

async function opened(): Promise<{ cp: CheckpointManager; store: RecordingStore }> {
  const store = new RecordingStore();
  return { cp: await CheckpointManager.open({ store }), store };
}

/** Calls `call` and returns what it rejected with; a synchronous throw fails the test. */
async function rejection(call: () => Promise<unknown>): Promise<CheckpointArgumentError> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    throw new Error(`expected a rejection, got a synchronous throw: ${String(error)}`);
  }
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(CheckpointArgumentError);
  return error as CheckpointArgumentError;
}

describe('a call with a bad argument', () => {
  it('is a rejected CheckpointArgumentError naming the argument, and writes nothing', async () => {
    const { cp, store } = await opened();
    const bad: [() => Promise<unknown>, RegExp][] = [
      [() => cp.markItemInProgress('', 'a'), /`step` to be a non-empty string, got `""` \(string\)/],
      [() => cp.markItemCompleted(5 as never, 'a'), /`step` to be a non-empty string, got `5` \(number\)/],
      [() => cp.markItemFailed('s'.repeat(1025), 'a', new Error('x')), /`step` to be a non-empty string/],
      [() => cp.markItemCompleted('s', 'a', (() => 1) as never), /result is a function, which JSON cannot represent/],
      [() => cp.markItemCompleted('s', Symbol('a')), /cannot derive an item key: item is a symbol/],
      [() => cp.markStageCompleted('', 1), /`stage` to be a non-empty string/],
      [() => cp.markStageCompleted('stage', { at: new Date() } as never), /result\.at/],
      [() => cp.setContext([1, 2] as never), /`context` to be a plain object, got `1,2` \(array\)/],
      [() => cp.setContext({ n: NaN }), /context\.n/],
      [() => cp.increment('cost', Number.NaN), /`by` to be a finite number, got `NaN` \(number\)/],
      [() => cp.increment('cost', '2' as never), /`by` to be a finite number, got `"2"` \(string\)/],
      [() => cp.setStepTotal('s', -1), /`total` to be a whole number >= 0, got `-1` \(number\)/],
      [() => cp.setStepTotal('s', 1.5), /`total` to be a whole number >= 0/],
      [() => cp.setStepSummary('s', { status: 'completed', metadata: { f: () => 1 } } as never), /summary\.metadata\.f/],
      [() => cp.resetStep(''), /`step` to be a non-empty string/],
      [() => cp.retryFailedItems(7 as never), /`step` to be a non-empty string, got `7` \(number\)/],
    ];
    for (const [call, message] of bad) expect((await rejection(call)).message).toMatch(message);
    const written = store.appended.length;
    expect(cp.steps).toEqual([]);
    expect(cp.getCounter('cost')).toBe(0);
    expect(cp.isStageCompleted('stage')).toBe(false);
    expect(cp.context).toEqual({});
    await cp.close();
    expect(written).toBe(0);
  });

  it('pendingItems and step() throw at once, since they return no promise', async () => {
    const { cp } = await opened();
    expect(() => cp.pendingItems('', [])).toThrow(CheckpointArgumentError);
    expect(() => cp.step('')).toThrow(/`step` to be a non-empty string/);
    await cp.close();
  });
});

describe('values handed to the checkpoint', () => {
  it('are copied: changing them afterwards does not reach the checkpoint', async () => {
    const { cp } = await opened();
    const context: JsonObject = { model: 'a', nested: { n: 1 } };
    await cp.setContext(context);
    (context.nested as JsonObject).n = 2;
    const result = { path: 'out/a.json' };
    await cp.markItemCompleted('s', 'a', result);
    await cp.markStageCompleted('download', result);
    result.path = 'changed';
    expect(cp.context).toEqual({ model: 'a', nested: { n: 1 } });
    expect(cp.getItem('s', 'a').result).toEqual({ path: 'out/a.json' });
    expect(cp.getStageResult('download')).toEqual({ path: 'out/a.json' });
    await cp.close();
  });

  it('are saved as values: increments add up, and setting a total twice writes once', async () => {
    const { cp, store } = await opened();
    expect(await cp.increment('cost', 1.5)).toBe(1.5);
    expect(await cp.increment('cost')).toBe(2.5);
    expect(store.appended.filter((change) => change.op === 'counter')).toEqual([
      { op: 'counter', name: 'cost', value: 1.5 },
      { op: 'counter', name: 'cost', value: 2.5 },
    ]);
    await cp.setStepTotal('s', 3);
    await cp.setStepTotal('s', 3);
    expect(store.appended.filter((change) => change.op === 'total')).toHaveLength(1);
    await cp.close();
  });
});
