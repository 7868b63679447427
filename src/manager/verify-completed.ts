import { CheckpointArgumentError, CheckpointVerifyError, describeKey, describeValue } from '../core/errors.js';
import type { WarningEvent } from '../core/events.js';
import type { JsonValue } from '../core/json.js';
import type { CheckpointChange } from '../core/model.js';
import type { CheckpointState } from '../core/state.js';
import { attemptsOf } from '../core/item-rules.js';
import { rule } from '../core/validate-options.js';

/**
 * Says whether a completed item's output is still good: `true` keeps it completed, `false` makes
 * it pending again so that it is done again. It may be async (a `stat`, a HEAD request).
 * Throwing fails the open with CheckpointVerifyError: return `false` for a missing or bad output.
 * @param key the item's key (see `keyOf`)
 * @param result what `markItemCompleted` saved with the item, if anything (e.g. an output path)
 * @param step the step the item completed in
 * @example (key) => fs.statSync(`out/${key}.wav`, { throwIfNoEntry: false })?.size > 0
 */
export type VerifyCompleted = (key: string, result: JsonValue | undefined, step: string) => boolean | PromiseLike<boolean>;

/** One check for every step, or a check per step name (steps not named are not checked). */
export type VerifyCompletedOption = VerifyCompleted | { readonly [step: string]: VerifyCompleted };

/**
 * How many async checks run at once: enough to overlap file-system or network latency, few
 * enough not to exhaust file descriptors or a remote's rate limit.
 */
export const VERIFY_CONCURRENCY = 16;

/** The rule of the `verifyCompleted` option. */
export const verifyCompletedRule = rule(
  'a function, or an object with a function for each step name',
  (value) => typeof value === 'function' || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((check) => typeof check === 'function')),
);

/** The completed items of one step that failed their check, in the order they completed. */
export interface UnverifiedItems {
  step: string;
  /** How many completed items of the step were checked. */
  checked: number;
  keys: string[];
}

/**
 * Runs the check on every completed item of every step it covers. Nothing is changed here: the
 * caller writes the result only once every check has answered, so a check that throws half-way
 * leaves the checkpoint as it was.
 * @throws CheckpointVerifyError when a check throws or rejects
 * @throws CheckpointArgumentError when a check answers something other than a boolean
 */
export async function findUnverifiedItems(state: CheckpointState, option: VerifyCompletedOption, location: string): Promise<UnverifiedItems[]> {
  const found: UnverifiedItems[] = [];
  for (const [step, steps] of state.steps) {
    const verify = typeof option === 'function' ? option : Object.hasOwn(option, step) ? option[step] : undefined;
    if (!verify || steps.completed.size === 0) continue;
    const keys = [...steps.completed];
    const good = await checkAll(keys, async (key) => {
      let verdict: unknown;
      try {
        verdict = await verify(key, steps.items.get(key)?.result, step);
      } catch (error) {
        throw new CheckpointVerifyError(location, step, key, error);
      }
      if (typeof verdict !== 'boolean') {
        throw new CheckpointArgumentError(
          `Expected \`verifyCompleted\` to return true or false for item ${describeKey(key)} of step "${step}", got ${describeValue(verdict)} — true keeps the item completed, false does it again`,
        );
      }
      return verdict;
    });
    found.push({ step, checked: keys.length, keys: keys.filter((_, index) => !good[index]) });
  }
  return found;
}

/** `check` on each key, at most VERIFY_CONCURRENCY at a time; the first failure stops the rest. */
async function checkAll(keys: readonly string[], check: (key: string) => Promise<boolean>): Promise<boolean[]> {
  const verdicts = new Array<boolean>(keys.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < keys.length) {
      const index = next++;
      try {
        verdicts[index] = await check(keys[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, keys.length) }, worker));
  return verdicts;
}

/**
 * The changes that make unverified items pending again, keeping their attempt count and saying
 * why; a step a Pipeline recorded as completed becomes pending, so that the Pipeline runs it again
 * (its verified items are still skipped).
 */
export function changesForUnverified(state: CheckpointState, found: readonly UnverifiedItems[], at: number): CheckpointChange[] {
  const changes: CheckpointChange[] = [];
  const error = { message: 'its output failed verifyCompleted when the checkpoint was opened', name: 'CheckpointVerifyError' };
  for (const { step, keys } of found) {
    const steps = state.steps.get(step)!;
    for (const key of keys) changes.push({ op: 'item', step, key, status: 'pending', attempts: attemptsOf(steps, key), at, error });
    if (keys.length > 0 && steps.summary?.status === 'completed') changes.push({ op: 'step', step, summary: { ...steps.summary, status: 'pending' } });
  }
  return changes;
}

/** The warning for one step's unverified items: the step, how many, and the first few keys. */
export function unverifiedWarning(location: string, { step, checked, keys }: UnverifiedItems): string {
  const shown = keys.slice(0, 5).map(describeKey).join(', ');
  const more = keys.length > 5 ? `, and ${keys.length - 5} more` : '';
  return `${location}: ${keys.length} of ${checked} completed item(s) of step "${step}" failed verifyCompleted (${shown}${more}): they are pending again and will be done again`;
}

/** What `verifyOnOpen` needs of the manager it runs in. */
export interface VerifyWiring {
  /** Hands a change to the store and applies it to the state, as any mark. */
  commit(change: CheckpointChange): Promise<void>;
  flush(): Promise<void>;
  warn(event: WarningEvent): void;
}

/**
 * The `verifyCompleted` option, run while the checkpoint opens: completed items whose output
 * fails the check become pending again. Each is written as a change (and flushed) before `open`
 * resolves, so a crash right after still redoes them; a step a Pipeline recorded as completed is
 * recorded as pending, so that the Pipeline runs it again.
 */
export async function verifyOnOpen(state: CheckpointState, option: VerifyCompletedOption, location: string, wiring: VerifyWiring): Promise<void> {
  const found = await findUnverifiedItems(state, option, location);
  const changes = changesForUnverified(state, found, Date.now());
  if (changes.length === 0) return;
  await Promise.all(changes.map((change) => wiring.commit(change)));
  await wiring.flush();
  for (const unverified of found) {
    if (unverified.keys.length > 0) wiring.warn({ message: unverifiedWarning(location, unverified), unverified });
  }
}
