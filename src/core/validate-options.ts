import { CheckpointArgumentError, describeValue } from './errors.js';
import { findNonJson } from './json.js';

/**
 * The rule one option follows. Each place that takes options lists its keys with their rules in
 * one object (an {@link OptionRules}), so that the allowed keys, the checks and the messages
 * cannot drift apart.
 */
export interface OptionRule {
  /** What a good value is, in the words of the message: "Expected `name` to be …". */
  readonly expected: string;
  /**
   * Whether `value` (never `undefined`) is allowed. A string instead of `false` says what is
   * wrong with it, for values whose problem lies deeper (JSON with a function inside).
   */
  readonly test: (value: unknown, name: string) => boolean | string;
  /** The allowed values of an enumeration, for the "did you mean" hint. */
  readonly values?: readonly string[];
  /** The keys of a nested options object (`backoff`, `retry`, `on`), checked like the outer ones. */
  readonly options?: OptionRules;
  /** Must be given (not `undefined`). */
  readonly required?: boolean;
  /** Never show the value in a message, only its type: it may hold a password. */
  readonly secret?: boolean;
}

/** The options one function takes, by key. */
export type OptionRules = Readonly<Record<string, OptionRule>>;

/** The longest delay `setTimeout`/`setInterval` honour; a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A rule with its own test. */
export function rule(expected: string, test: (value: unknown) => boolean): OptionRule {
  return { expected, test };
}

/** The building blocks of option lists. */
export const rules = {
  boolean: rule('a boolean', (value) => typeof value === 'boolean'),
  string: rule('a string', (value) => typeof value === 'string'),
  nonEmptyString: rule('a non-empty string', (value) => typeof value === 'string' && value !== ''),
  function: rule('a function', (value) => typeof value === 'function'),
  abortSignal: rule('an AbortSignal', (value) => value instanceof AbortSignal),
  /** Plain JSON, as a checkpoint can hold it (see `findNonJson`). */
  json: { expected: 'plain JSON', test: (value: unknown, name: string) => findNonJson(value, name) ?? true } satisfies OptionRule,
  /** What `CheckpointManager.open` needs of a store: the `CheckpointStore` interface. */
  store: rule(
    'a CheckpointStore (an object with a string `location` and open, append, save, flush, close and remove functions)',
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { location?: unknown }).location === 'string' &&
      (['open', 'append', 'save', 'flush', 'close', 'remove'] as const).every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
  ),
  /** A console-like logger: `warn` and `error` are called, `debug` and `info` when present. */
  logger: rule('a logger (an object with warn and error functions, such as console)', (value) => {
    if (typeof value !== 'object' || value === null) return false;
    const logger = value as Record<string, unknown>;
    return (
      typeof logger.warn === 'function' &&
      typeof logger.error === 'function' &&
      (logger.debug === undefined || typeof logger.debug === 'function') &&
      (logger.info === undefined || typeof logger.info === 'function')
    );
  }),

  /** One of `values`, compared exactly (`'Full'` is not `'full'`, but the message suggests it). */
  oneOf(...values: readonly string[]): OptionRule {
    const quoted = values.map((value) => `'${value}'`);
    const expected = quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `one of ${quoted.join(', ')}`;
    return { expected, values, test: (value) => typeof value === 'string' && values.includes(value) };
  },

  /**
   * A number in `[min, max]`: an integer unless `integer: false`; `Infinity` only with
   * `infinity: true`. NaN never passes.
   */
  number({ min, max, integer = true, infinity = false }: { min: number; max?: number; integer?: boolean; infinity?: boolean }): OptionRule {
    const kind = integer ? 'integer' : 'number';
    let expected =
      max !== undefined
        ? `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`
        : integer && min === 1
          ? 'a positive integer'
          : integer && min === 0
            ? 'a non-negative integer'
            : `a finite ${kind} of at least ${min}`;
    if (infinity) expected += ' or Infinity';
    return {
      expected,
      test: (value) =>
        typeof value === 'number' &&
        ((infinity && value === Infinity) ||
          ((integer ? Number.isSafeInteger(value) : Number.isFinite(value)) && value >= min && (max === undefined || value <= max))),
    };
  },

  /** A nested options object (`backoff: { initialMs, … }`): its keys are checked too. */
  object(options: OptionRules): OptionRule {
    return { expected: `an object with ${listKeys(options)}`, test: isObject, options };
  },

  /** The same rule, but the option must be given. */
  required(inner: OptionRule): OptionRule {
    return { ...inner, required: true };
  },

  /** The same rule, with the value kept out of messages. */
  secret(inner: OptionRule): OptionRule {
    return { ...inner, secret: true };
  },
};

function listKeys(options: OptionRules): string {
  return Object.keys(options)
    .map((key) => `\`${key}\``)
    .join(', ');
}

/**
 * Checks the options passed to `subject` (such as `CheckpointManager.open`) against `rules`:
 * it must be an object, every key must be known (a near miss is named: "did you mean
 * `durability`?"), and every given value must follow its rule. Keys whose value is `undefined`
 * count as not given.
 *
 * @throws CheckpointArgumentError naming the option, what was expected and what was given
 * @example checkOptions(options, FILE_STORE_OPTIONS, 'JsonFileStore');
 */
export function checkOptions(options: unknown, optionRules: OptionRules, subject: string): void {
  if (!isObject(options)) {
    throw new CheckpointArgumentError(`Expected the options of ${subject} to be an object, got ${describeValue(options)}`);
  }
  checkKeys(options, optionRules, subject, '');
}

function checkKeys(options: Record<string, unknown>, optionRules: OptionRules, subject: string, prefix: string): void {
  // Inherited keys too (an options object made with Object.create): they are read like own ones.
  for (const key in options) {
    if (options[key] !== undefined && !Object.hasOwn(optionRules, key)) throw unknownOption(prefix + key, key, optionRules, subject, prefix);
  }
  for (const [key, keyRule] of Object.entries(optionRules)) {
    const value = key in options && !Object.hasOwn(Object.prototype, key) ? options[key] : undefined;
    if (value === undefined) {
      if (keyRule.required) throw invalidOption(prefix + key, keyRule, value);
      continue;
    }
    checkValue(prefix + key, value, keyRule);
    if (keyRule.options) checkKeys(value as Record<string, unknown>, keyRule.options, subject, `${prefix}${key}.`);
  }
}

/**
 * Checks one value against its rule, given or not, and returns it: for arguments that are not
 * in an options object, and for values with their defaults applied.
 * @example const batchSize = checkValue('batchSize', options.batchSize ?? 10, rules.number({ min: 1 }));
 */
export function checkValue<T>(name: string, value: T, valueRule: OptionRule): T {
  const verdict = valueRule.test(value, name);
  if (verdict === true) return value;
  if (typeof verdict === 'string') throw new CheckpointArgumentError(`Expected \`${name}\` to be ${valueRule.expected}, but ${verdict}`);
  throw invalidOption(name, valueRule, value);
}

function invalidOption(name: string, valueRule: OptionRule, value: unknown): CheckpointArgumentError {
  const shown = valueRule.secret ? `a ${value === null ? 'null' : typeof value} (not shown)` : describeValue(value);
  const near = valueRule.values && typeof value === 'string' ? closest(value, valueRule.values) : undefined;
  const hint = near === undefined ? '' : ` — did you mean '${near}'?`;
  return new CheckpointArgumentError(`Expected \`${name}\` to be ${valueRule.expected}, got ${shown}${hint}`);
}

function unknownOption(name: string, key: string, optionRules: OptionRules, subject: string, prefix: string): CheckpointArgumentError {
  const near = closest(key, Object.keys(optionRules));
  const hint = near === undefined ? `the options are ${listKeys(optionRules)}` : `did you mean \`${prefix}${near}\`?`;
  return new CheckpointArgumentError(`Unknown option \`${name}\` for ${subject} — ${hint}`);
}

/**
 * Throws when any of `keys` is given together with `given`: options that would be ignored
 * (file-store options beside a `store` that has its own).
 */
export function rejectOptionsWith(options: Record<string, unknown>, given: string, keys: readonly string[], hint: string): void {
  if (options[given] === undefined) return;
  const ignored = keys.filter((key) => options[key] !== undefined);
  if (ignored.length === 0) return;
  const names = ignored.map((key) => `\`${key}\``).join(', ');
  throw new CheckpointArgumentError(`Expected no ${names} together with \`${given}\`, because ${ignored.length === 1 ? 'it' : 'they'} would be ignored — ${hint}`);
}

/** The options of `options` that `optionRules` lists, for handing them on to a narrower function. */
export function pickOptions<T extends object>(options: T, optionRules: OptionRules): Partial<T> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(optionRules)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as Partial<T>;
}

/**
 * The candidate nearest to `word` if it is near enough to be a typo: equal but for case, or at
 * most about one edit per three characters (insertions, deletions, changes, swaps).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus swaps of two neighbours. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const change = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + change);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}
