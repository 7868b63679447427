import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointManager, MemoryStore } from '../../src/index.js';
import { backoffDelay } from '../../src/runner/backoff.js';

const open = () => CheckpointManager.open({ store: new MemoryStore() });

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('backoffDelay', () => {
  const backoff = { initialMs: 100, factor: 2, maxMs: 1000 };

  it('draws from 0 up to a cap that grows by `factor` and stops at `maxMs`', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, backoff, top))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, backoff, () => 0)).toBe(0);
  });

  it('spreads delays over the whole range (full jitter)', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, backoff));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(800);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(300);
    expect(mean).toBeLessThan(500);
  });
});

describe('forEach retries', () => {
  it('waits the backoff between attempts (fake timers)', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    const cp = await open();
    const attemptsAt: number[] = [];
    const run = cp.step('s').forEach(['a'], () => {
      attemptsAt.push(Date.now());
      if (attemptsAt.length < 5) throw new Error('busy');
      return 'ok';
    }, { retries: 4, backoff: { initialMs: 1000, factor: 3, maxMs: 5000 } });
    await vi.advanceTimersByTimeAsync(20_000);
    const report = await run;
    expect(report).toMatchObject({ completed: 1, failed: 0 });
    const gaps = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!);
    expect(gaps).toEqual([999, 2999, 4999, 4999]);
    expect(cp.getItem('s', 'a')).toMatchObject({ status: 'completed', attempts: 5, result: 'ok' });
  });

  it('does not start the next attempt before its delay has passed (fake timers)', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const cp = await open();
    let attempts = 0;
    const run = cp.step('s').forEach(['a'], () => {
      if (++attempts === 1) throw new Error('busy');
    }, { retries: 1, backoff: { initialMs: 10_000 } });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    await run;
  });

  it('retries in real time with jittered delays no longer than their caps', async () => {
    const cp = await open();
    const attemptsAt = new Map<string, number[]>();
    const items = Array.from({ length: 20 }, (_, i) => `doc-${i}`);
    const started = Date.now();
    const report = await cp.step('s').forEach(items, (doc) => {
      const times = attemptsAt.get(doc) ?? [];
      times.push(Date.now());
      attemptsAt.set(doc, times);
      if (times.length < 3) throw new Error('flaky');
    }, { concurrency: 20, retries: 2, backoff: { initialMs: 40, factor: 2, maxMs: 60 } });
    expect(report).toMatchObject({ completed: 20, failed: 0 });
    const gaps = [...attemptsAt.values()].flatMap((times) => times.slice(1).map((at, i) => at - times[i]!));
    // Caps 40 and 60 ms; timers fire late on a busy machine, never early.
    expect(Math.max(...gaps)).toBeLessThan(60 + 1_000);
    expect(new Set(gaps).size).toBeGreaterThan(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('retries only what retryOn accepts', async () => {
    const cp = await open();
    const seen: unknown[] = [];
    let calls = 0;
    const report = await cp.step('s').forEach(['rate-limited', 'bad-request'], (doc) => {
      calls++;
      throw Object.assign(new Error(doc), { status: doc === 'rate-limited' ? 429 : 400 });
    }, {
      retries: 3,
      backoff: { initialMs: 0 },
      retryOn: (error) => {
        seen.push(error);
        return (error as { status: number }).status === 429;
      },
    });
    expect(calls).toBe(4 + 1);
    expect(report.failures.map(({ key, attempts }) => [key, attempts])).toEqual([
      ['rate-limited', 4],
      ['bad-request', 1],
    ]);
    expect(seen).toHaveLength(3 + 1);
  });

  it('fails an attempt that exceeds timeoutMs, fires its signal and retries it', async () => {
    const cp = await open();
    const signals: AbortSignal[] = [];
    const started = Date.now();
    const report = await cp.step('s').forEach(['slow'], (_doc, { signal, attempt }) => {
      signals.push(signal);
      // The first attempt ignores its signal and never settles; the runner must not wait for it.
      return attempt === 1 ? new Promise(() => undefined) : 'fast enough';
    }, { timeoutMs: 50, retries: 1, backoff: { initialMs: 0 } });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(report).toMatchObject({ completed: 1, failed: 0 });
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).name).toBe('TimeoutError');
    expect(signals[1]!.aborted).toBe(false);
  });

  it('marks an item failed with a TimeoutError when it times out on every attempt', async () => {
    const cp = await open();
    const report = await cp.step('s').forEach(['slow', 'quick'], (doc, { signal }) => doc === 'slow' ? delay(10_000, undefined, { signal }) : undefined, { timeoutMs: 30 });
    expect(report).toMatchObject({ completed: 1, failed: 1 });
    expect(cp.getItem('s', 'slow')).toMatchObject({ status: 'failed', error: { name: 'TimeoutError', message: expect.stringContaining('timeoutMs (30 ms)') } });
  });
});

describe('forEach failFast', () => {
  it('takes no new items after the first failure, lets in-flight ones finish, and rejects with the error', async () => {
    const cp = await open();
    const started: string[] = [];
    const items = Array.from({ length: 50 }, (_, i) => `doc-${i}`);
    const failure = new Error('doc-5 is malformed');
    const run = cp.step('s').forEach(items, async (doc) => {
      started.push(doc);
      if (doc === 'doc-5') throw failure;
      await delay(30);
    }, { concurrency: 3, failFast: true, retries: 1, backoff: { initialMs: 0 } });
    await expect(run).rejects.toBe(failure);
    expect(cp.getItem('s', 'doc-5')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(started.length).toBeLessThan(12);
    // The items running when doc-5 failed were allowed to finish and were saved.
    const others = started.filter((doc) => doc !== 'doc-5');
    for (const doc of others) expect(cp.getItemStatus('s', doc)).toBe('completed');
    expect(cp.getItemStatus('s', 'doc-49')).toBe('pending');
  });

  it('without failFast, keeps going after failures', async () => {
    const cp = await open();
    const report = await cp.step('s').forEach(['a', 'b', 'c'], (doc) => {
      if (doc !== 'b') throw new Error(doc);
    });
    expect(report).toMatchObject({ completed: 1, failed: 2 });
  });
});
