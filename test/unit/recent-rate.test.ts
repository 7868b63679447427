import { describe, expect, it } from 'vitest';
import { RATE_WINDOW_MS, recentRate, recordCompletion, SAMPLE_SPACING_MS, type CompletionSample } from '../../src/core/recent-rate.js';

describe('the recent rate of a step', () => {
  it('is the completions over the last minute, a sample every few seconds', () => {
    const samples: CompletionSample[] = [];
    for (let second = 0; second <= 120; second++) recordCompletion(samples, second * 1000, second * 2);
    expect(samples.length).toBeLessThanOrEqual(RATE_WINDOW_MS / SAMPLE_SPACING_MS + 2);
    expect(samples[0]![0]).toBeGreaterThanOrEqual(120_000 - RATE_WINDOW_MS);
    expect(recentRate(samples, 121_000, 100)).toEqual({ perSecond: 2, etaMs: 50_000 });
  });

  it('forgets completions more than a minute before the newest one: one new completion after a pause gives no rate', () => {
    const samples: CompletionSample[] = [];
    recordCompletion(samples, 0, 1);
    recordCompletion(samples, 1000, 2);
    recordCompletion(samples, 138_000, 3);
    expect(recentRate(samples, 138_000, 7)).toEqual({ perSecond: null, etaMs: null });
  });

  it('ignores saved samples older than the window, as an older run or a hand edit may leave them', () => {
    const old: CompletionSample[] = [[0, 2], [3 * 3_600_000, 3]];
    expect(recentRate(old, 3 * 3_600_000, 7)).toEqual({ perSecond: null, etaMs: null });
  });

  it('shows nothing once the newest completion is more than a minute old, or when completions span under a second', () => {
    const samples: CompletionSample[] = [[0, 0], [10_000, 10]];
    expect(recentRate(samples, 10_000 + RATE_WINDOW_MS + 1, 5)).toEqual({ perSecond: null, etaMs: null });
    expect(recentRate([[0, 0], [500, 50]], 600, 5)).toEqual({ perSecond: null, etaMs: null });
  });
});
