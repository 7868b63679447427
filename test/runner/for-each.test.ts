import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, MemoryStore, type ItemEvent } from '../../src/index.js';
import type { ForEachProgress } from '../../src/runner/options.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const open = (store = new MemoryStore(), options: { retryFailed?: boolean; maxAttempts?: number } = {}) =>
  CheckpointManager.open({ store, ...options });
const range = (n: number, prefix = 'doc') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('step.forEach', () => {
  it('runs every item once, marks it completed and stores small JSON results', async () => {
    const cp = await open();
    const seen: string[] = [];
    const report = await cp.step('enrich').forEach(range(5), (doc) => {
      seen.push(doc);
      return { words: doc.length };
    });
    expect(seen).toEqual(range(5));
    expect(report).toEqual({ completed: 5, failed: 0, skipped: 0, durationMs: expect.any(Number), failures: [] });
    expect(Object.keys(report).sort()).toEqual(['completed', 'durationMs', 'failed', 'failures', 'skipped']);
    expect(cp.getItem('enrich', 'doc-3')).toMatchObject({ status: 'completed', attempts: 1, result: { words: 5 } });
  });

  it('stores a result only when it is plain JSON of at most 1 KiB', async () => {
    const cp = await open();
    const results: Record<string, unknown> = { small: 'x'.repeat(1000), large: 'x'.repeat(1100), date: new Date(0), map: new Map(), none: undefined, zero: 0 };
    await cp.step('s').forEach(Object.keys(results), (key) => results[key]);
    expect(cp.getItem('s', 'small').result).toBe('x'.repeat(1000));
    expect(cp.getItem('s', 'zero').result).toBe(0);
    for (const key of ['large', 'date', 'map', 'none']) {
      expect(cp.isItemCompleted('s', key)).toBe(true);
      expect(cp.getItem('s', key).result).toBeUndefined();
    }
  });

  it('skips completed items, dead letters, and failed items under retryFailed: false', async () => {
    const store = new MemoryStore();
    let cp = await open(store, { maxAttempts: 1 });
    await cp.markItemCompleted('s', 'doc-0');
    await cp.markItemFailed('s', 'doc-1', new Error('gone')); // a dead letter: maxAttempts 1
    await cp.close();
    cp = await open(store, { retryFailed: false, maxAttempts: 5 });
    await cp.markItemFailed('s', 'doc-2', new Error('flaky'));
    const seen: string[] = [];
    const report = await cp.step('s').forEach(range(5), (doc) => void seen.push(doc));
    expect(seen).toEqual(['doc-3', 'doc-4']);
    expect(report).toMatchObject({ completed: 2, skipped: 3, failed: 0 });
  });

  it('retries failed items of an earlier run by default', async () => {
    const cp = await open();
    await cp.markItemFailed('s', 'doc-1', new Error('flaky'));
    await cp.markItemCompleted('s', 'doc-0');
    const seen: string[] = [];
    await cp.step('s').forEach(range(2), (doc) => void seen.push(doc));
    expect(seen).toEqual(['doc-1']);
    expect(cp.getItem('s', 'doc-1')).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('never runs more than `concurrency` items at once, and reaches it', async () => {
    const cp = await open();
    let active = 0;
    let highest = 0;
    await cp.step('s').forEach(range(30), async () => {
      highest = Math.max(highest, ++active);
      await delay(5);
      active--;
    }, { concurrency: 4 });
    expect(highest).toBe(4);
  });

  it('runs one item at a time by default', async () => {
    const cp = await open();
    let active = 0;
    let highest = 0;
    await cp.step('s').forEach(range(10), async () => {
      highest = Math.max(highest, ++active);
      await delay(1);
      active--;
    });
    expect(highest).toBe(1);
  });

  it('reads an async iterable no further ahead than `concurrency` items', async () => {
    const cp = await open();
    let pulled = 0;
    let settled = 0;
    let widest = 0;
    async function* docs() {
      for (let i = 0; i < 50; i++) {
        pulled++;
        widest = Math.max(widest, pulled - settled);
        yield { id: i };
      }
    }
    const report = await cp.step('s').forEach(docs(), async () => {
      await delay(1);
      settled++;
    }, { concurrency: 3 });
    expect(report.completed).toBe(50);
    // The item just pulled counts too: three in flight plus the one being handed out.
    expect(widest).toBeLessThanOrEqual(4);
    expect(cp.isItemCompleted('s', { id: 49 })).toBe(true);
  });

  it('accepts sync iterables such as a Set or a generator', async () => {
    const cp = await open();
    function* numbers() {
      yield 1;
      yield 2;
    }
    expect((await cp.step('a').forEach(new Set(['x', 'y', 'z']), () => undefined)).completed).toBe(3);
    expect((await cp.step('b').forEach(numbers(), () => undefined)).completed).toBe(2);
    expect(cp.isItemCompleted('b', 2)).toBe(true);
  });

  it('works on an item listed twice only once', async () => {
    const cp = await open();
    let runs = 0;
    const report = await cp.step('s').forEach(['a', 'b', 'a', 'a'], async () => {
      runs++;
      await delay(2);
    }, { concurrency: 3 });
    expect(runs).toBe(2);
    expect(report).toMatchObject({ completed: 2, skipped: 2 });
  });

  it('passes the signal, the attempt number and the step name to fn', async () => {
    const cp = await open();
    const contexts: Array<{ aborted: boolean; attempt: number; step: string }> = [];
    await cp.step('embed').forEach(['a'], ({ length }, { signal, attempt, step }) => {
      contexts.push({ aborted: signal.aborted, attempt, step });
      if (attempt < 2) throw new Error(`try ${length}`);
    }, { retries: 1, backoff: { initialMs: 0 } });
    expect(contexts).toEqual([
      { aborted: false, attempt: 1, step: 'embed' },
      { aborted: false, attempt: 2, step: 'embed' },
    ]);
  });

  it('marks items failed with message, name and attempts, and lists them in the report', async () => {
    const cp = await open();
    class QuotaError extends Error {
      override name = 'QuotaError';
    }
    const report = await cp.step('s').forEach(range(4), (doc) => {
      if (doc === 'doc-2') throw new QuotaError('quota exceeded');
    }, { retries: 2, backoff: { initialMs: 1 } });
    expect(report).toMatchObject({ completed: 3, failed: 1, skipped: 0 });
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatchObject({ key: 'doc-2', attempts: 3 });
    expect(report.failures[0]!.error).toBeInstanceOf(QuotaError);
    expect(cp.getItem('s', 'doc-2')).toMatchObject({ status: 'failed', attempts: 3, error: { message: 'quota exceeded', name: 'QuotaError' } });
  });

  it('emits item events that say which item did what', async () => {
    const cp = await open();
    const events: ItemEvent[] = [];
    cp.on('item', (event) => events.push(event));
    await cp.step('s').forEach(['ok', 'bad'], (doc) => {
      if (doc === 'bad') throw new Error('no');
    });
    expect(events.map(({ key, status }) => `${key}:${status}`)).toEqual(['ok:in_progress', 'ok:completed', 'bad:in_progress', 'bad:failed']);
  });

  it('lets fn update counters concurrently without losing increments', async () => {
    const cp = await open();
    await cp.step('s').forEach(range(100), async () => {
      await delay(1);
      await cp.increment('cost', 0.25);
    }, { concurrency: 8 });
    expect(cp.getCounter('cost')).toBe(25);
  });

  it('reports progress with a total for arrays, none for iterables unless given, and a final call', async () => {
    const cp = await open();
    await cp.markItemCompleted('s', 'doc-0');
    const calls: ForEachProgress[] = [];
    await cp.step('s').forEach(range(10), () => delay(2), { onProgress: (p) => calls.push(p), progressIntervalMs: 0 });
    expect(calls.length).toBeGreaterThanOrEqual(10);
    const last = calls.at(-1)!;
    expect(last).toMatchObject({ step: 's', done: 10, total: 10, completed: 9, failed: 0, skipped: 1, inFlight: 0, etaMs: 0 });
    expect(last.rate).toBeGreaterThan(0);
    const middle = calls.find((p) => p.done === 5)!;
    expect(middle.etaMs).toBeGreaterThan(0);

    const fromIterable: ForEachProgress[] = [];
    await cp.step('t').forEach(range(3).values(), () => undefined, { onProgress: (p) => fromIterable.push(p) });
    expect(fromIterable.at(-1)).toMatchObject({ done: 3, total: undefined, etaMs: undefined });
    expect(cp.getStepTotal('t')).toBeUndefined();
    const given: ForEachProgress[] = [];
    await cp.step('u').forEach(range(3).values(), () => undefined, { total: 3, onProgress: (p) => given.push(p) });
    expect(given.at(-1)).toMatchObject({ done: 3, total: 3 });
    const fromSet: ForEachProgress[] = [];
    await cp.step('v').forEach(new Set(range(4)), () => undefined, { onProgress: (p) => fromSet.push(p) });
    expect(fromSet.at(-1)).toMatchObject({ done: 4, total: 4 });
  });

  it('records the total of the step in the checkpoint: arrays, typed arrays, Sets and Maps, or the total option', async () => {
    const cp = await open();
    await cp.step('array').forEach(range(5), () => undefined);
    await cp.step('typed').forEach(new Uint8Array(7), () => undefined);
    await cp.step('map').forEach(new Map([[1, 'a'], [2, 'b']]), () => undefined);
    await cp.step('given').forEach(range(2).values(), () => undefined, { total: 9 });
    const summary = cp.getProgressSummary().steps;
    expect(summary['array']).toMatchObject({ total: 5, completed: 5, pending: 0, percent: 100 });
    expect(summary['typed']?.total).toBe(7);
    expect(summary['map']?.total).toBe(2);
    expect(summary['given']).toMatchObject({ total: 9, completed: 2, pending: 7, percent: 22.2 });
    await expect(cp.setStepTotal('given', -1)).rejects.toThrow(/Expected `total` to be a whole number >= 0, got `-1`/);
    await expect(cp.step('given').setTotal(1.5)).rejects.toThrow(/`total`/);
    await cp.close();
  });

  it('throttles onProgress to progressIntervalMs', async () => {
    const cp = await open();
    let calls = 0;
    await cp.step('s').forEach(range(200), () => undefined, { onProgress: () => calls++, progressIntervalMs: 60_000 });
    expect(calls).toBe(2); // the first settled item, and the final report
  });

  it('works against a file checkpoint and survives a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-foreach-'));
    dirs.push(dir);
    const path = join(dir, 'checkpoint.json');
    let cp = await CheckpointManager.open({ path });
    await cp.step('s').forEach(range(20), (doc) => doc.toUpperCase(), { concurrency: 5 });
    await cp.close();
    cp = await CheckpointManager.open({ path });
    expect(cp.getItem('s', 'doc-7').result).toBe('DOC-7');
    const report = await cp.step('s').forEach(range(25), () => undefined, { concurrency: 5 });
    expect(report).toMatchObject({ completed: 5, skipped: 20 });
    await cp.close();
  });

  it('rejects bad arguments with clear messages', async () => {
    const cp = await open();
    const step = cp.step('s');
    await expect(step.forEach(['a'], () => undefined, { concurrency: 0 })).rejects.toThrow('Expected `concurrency` to be a positive integer, got `0` (number)');
    await expect(step.forEach(['a'], () => undefined, { retries: -1 })).rejects.toThrow(CheckpointArgumentError);
    await expect(step.forEach(['a'], () => undefined, { backoff: { factor: 0.5 } })).rejects.toThrow('`backoff.factor`');
    await expect(step.forEach('abc' as unknown as string[], () => undefined)).rejects.toThrow('Expected `items` to be an array');
    await expect(step.forEach(['a'], 'run' as unknown as () => void)).rejects.toThrow('Expected `fn` to be a function');
    expect(cp.getItemStatus('s', 'a')).toBe('pending');
  });

  it('rejects with the key error when an item cannot be keyed, after saving what was done', async () => {
    const cp = await open();
    const items: unknown[] = ['a', 'b', () => 'not json', 'c'];
    await expect(cp.step('s').forEach(items, () => undefined)).rejects.toThrow('cannot derive an item key');
    expect(cp.isItemCompleted('s', 'b')).toBe(true);
    expect(cp.isItemCompleted('s', 'c')).toBe(false);
  });

  it('rejects with the error of an input stream that fails', async () => {
    const cp = await open();
    async function* broken() {
      yield 'a';
      throw new Error('disk read failed');
    }
    await expect(cp.step('s').forEach(broken(), () => undefined)).rejects.toThrow('disk read failed');
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
  });
});
