import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CheckpointAbortError, CheckpointManager, MemoryStore } from '../../src/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => `doc-${i}`);

describe('forEach with an AbortSignal', () => {
  it('stops at once when the signal aborts, keeps every completed item, and the next run does the rest', async () => {
    const store = new MemoryStore();
    let cp = await CheckpointManager.open({ store });
    const controller = new AbortController();
    const finished = new Set<string>();
    const runs = new Map<string, number>();
    const work = async (doc: string, signal: AbortSignal) => {
      runs.set(doc, (runs.get(doc) ?? 0) + 1);
      await delay(5 + (doc.length % 3), undefined, { signal });
      finished.add(doc);
      // From outside the item, as a user's stop button would.
      if (finished.size === 30) setTimeout(() => controller.abort(new Error('user pressed stop')), 0);
    };
    const error = await cp.step('s').forEach(range(100), (doc, { signal }) => work(doc, signal), { concurrency: 4, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointAbortError);
    expect(error).toMatchObject({ code: 'ABORTED', cause: controller.signal.reason });
    expect((error as Error).message).toContain('run again to resume');

    // Every item whose work finished is completed; the abort left the rest in progress or pending.
    for (const doc of finished) expect(cp.isItemCompleted('s', doc)).toBe(true);
    const summary = cp.getProgressSummary().steps.s!;
    expect(summary.completed).toBe(finished.size);
    expect(summary.inProgress).toBeLessThanOrEqual(4);
    expect(summary.completed).toBeLessThan(100);
    await cp.close();
    const finishedBeforeAbort = [...finished];

    cp = await CheckpointManager.open({ store });
    const report = await cp.step('s').forEach(range(100), (doc, { signal }) => work(doc, signal), { concurrency: 4 });
    expect(report.completed + report.skipped).toBe(100);
    expect(report.skipped).toBe(finished.size - report.completed);
    // No item whose work finished before the abort ran again; only the abandoned in-flight ones did.
    for (const doc of finishedBeforeAbort) expect(runs.get(doc)).toBe(1);
    expect([...runs.values()].filter((n) => n > 1).length).toBe(summary.inProgress);
    expect(cp.getProgressSummary().steps.s!.completed).toBe(100);
  });

  it('uses the checkpoint signal when forEach is given none', async () => {
    const controller = new AbortController();
    const cp = await CheckpointManager.open({ store: new MemoryStore(), signal: controller.signal });
    let started = 0;
    const run = cp.step('s').forEach(range(10), async (_doc, { signal }) => {
      if (++started === 3) controller.abort();
      await delay(5, undefined, { signal });
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(started).toBe(3);
    expect(cp.getItemStatus('s', 'doc-2')).toBe('in_progress');
    expect(cp.getItemStatus('s', 'doc-1')).toBe('completed');
  });

  it('rejects before running anything when the signal is already aborted', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    let calls = 0;
    await expect(cp.step('s').forEach(range(3), () => void calls++, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CheckpointAbortError);
    expect(calls).toBe(0);
  });

  it('does not retry an attempt that was interrupted', async () => {
    const controller = new AbortController();
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    let attempts = 0;
    const run = cp.step('s').forEach(['a'], async (_doc, { signal }) => {
      attempts++;
      setTimeout(() => controller.abort(), 5);
      await delay(1_000, undefined, { signal });
    }, { retries: 5, backoff: { initialMs: 0 }, signal: controller.signal });
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(attempts).toBe(1);
    expect(cp.getItem('s', 'a')).toMatchObject({ status: 'in_progress', attempts: 1 });
  });

  it('stops waiting for a stream that does not answer, and closes it', async () => {
    const controller = new AbortController();
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    let closed = false;
    async function* stalls() {
      try {
        yield 'a';
        controller.abort();
        await new Promise(() => undefined);
      } finally {
        closed = true;
      }
    }
    const iterator = stalls();
    await expect(cp.step('s').forEach(iterator, () => undefined, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    // An async generator suspended at an await finishes that await before its `finally` can run,
    // so closing a stalled stream can only be asked for; a generator paused at `yield` closes at once.
    expect(closed).toBe(false);
  });

  it('closes an async generator paused at yield when the run stops early', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    let closed = false;
    async function* docs() {
      try {
        for (let i = 0; ; i++) yield `doc-${i}`;
      } finally {
        closed = true;
      }
    }
    const failure = new Error('stop here');
    await expect(cp.step('s').forEach(docs(), (doc) => {
      if (doc === 'doc-3') throw failure;
    }, { failFast: true })).rejects.toBe(failure);
    await delay(1);
    expect(closed).toBe(true);
  });
});

describe('forEach signal handling', () => {
  it('listens for SIGINT and SIGTERM only while it runs', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    const during: number[] = [];
    await cp.step('s').forEach(['a'], () => void during.push(process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')));
    expect(during).toEqual([before.int + 1, before.term + 1]);
    expect(process.listenerCount('SIGINT')).toBe(before.int);
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
  });

  it('leaves signals alone with handleSignals: false', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    const before = process.listenerCount('SIGINT');
    let during = -1;
    await cp.step('s').forEach(['a'], () => void (during = process.listenerCount('SIGINT')), { handleSignals: false });
    expect(during).toBe(before);
  });
});
