import { recentRate } from './recent-rate.js';
import type { StepCounts, StepState } from './state.js';

/** A step's counts with what a person reads off a progress bar. */
export interface StepProgressCounts extends StepCounts {
  /** Completed items as a percentage of `total` (0–100, one decimal), or null without a total. */
  percent: number | null;
  /** Items completed per second over the last minute of completions; null when none were recent. */
  ratePerSecond: number | null;
  /** Milliseconds until the items not yet completed (dead letters aside) are done at that rate. */
  etaMs: number | null;
}

/** The counts, percentage, recent rate and ETA of `step` as of `now` (epoch ms). */
export function stepProgress(step: StepState, now: number): StepProgressCounts {
  const counts = step.counts();
  const { total, completed, deadLetter } = counts;
  const percent = total === null ? null : total === 0 ? 100 : Math.min(100, Math.round((completed / total) * 1000) / 10);
  const remaining = total === null ? null : Math.max(0, total - completed - deadLetter);
  const rate = recentRate(step.recentCompletions, now, remaining);
  return { ...counts, percent, ratePerSecond: rate.perSecond === null ? null : Math.round(rate.perSecond * 100) / 100, etaMs: rate.etaMs };
}
