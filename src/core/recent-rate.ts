/**
 * The recent completion rate of a step, from a few `[epoch ms, completed count]` samples kept
 * with the step. Samples are taken as completions are applied (so replaying a journal gives the
 * same samples) and cost a comparison per completion: a new sample starts every
 * {@link SAMPLE_SPACING_MS}, the newest is moved forward in between, and samples older than
 * {@link RATE_WINDOW_MS} before the newest are dropped.
 */
export type CompletionSample = [at: number, completed: number];

/** How far apart samples are. */
export const SAMPLE_SPACING_MS = 5_000;
/** How far back the rate looks. */
export const RATE_WINDOW_MS = 60_000;
/** Completions closer together than this give no rate yet: a burst of a few items says little. */
const MIN_SPAN_MS = 1_000;

/** Records that `completed` items were done at `at`. Mutates `samples` in place. */
export function recordCompletion(samples: CompletionSample[], at: number, completed: number): void {
  const newest = samples.at(-1);
  if (newest && at < newest[0]) at = newest[0]; // a clock step back never reorders the samples
  const previous = samples.at(-2);
  if (newest && previous && newest[0] - previous[0] < SAMPLE_SPACING_MS) {
    newest[0] = at;
    newest[1] = completed;
  } else {
    samples.push([at, completed]);
  }
  while (samples.length > 1 && at - samples[0]![0] > RATE_WINDOW_MS) samples.shift();
}

/** What a person wants to know about a step's pace. */
export interface RecentRate {
  /** Items completed per second over the last minute of completions, or null when unknown. */
  perSecond: number | null;
  /** Milliseconds until `remaining` items are done at that rate, or null when unknown. */
  etaMs: number | null;
}

/**
 * The rate over the samples, as of `now`: null once the newest completion is more than a window
 * old (the run stopped or stalls), so that a finished run shows no stale rate or ETA.
 */
export function recentRate(samples: readonly CompletionSample[] | undefined, now: number, remaining: number | null): RecentRate {
  const last = samples?.at(-1);
  // Samples saved by an older run (or edited by hand) may reach further back than the window.
  const first = last && samples?.find((sample) => last[0] - sample[0] <= RATE_WINDOW_MS);
  if (!first || !last || last[0] - first[0] < MIN_SPAN_MS || now - last[0] > RATE_WINDOW_MS) return { perSecond: null, etaMs: null };
  const perSecond = ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  if (!(perSecond > 0)) return { perSecond: 0, etaMs: null };
  return { perSecond, etaMs: remaining === null ? null : Math.round((remaining / perSecond) * 1000) };
}
