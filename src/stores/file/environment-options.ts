import { CheckpointArgumentError } from '../../core/errors.js';
import { closest, type OptionRule } from '../../core/validate-options.js';
import { FILE_STORE_OPTIONS, type FileStoreOptions } from './file-store-options.js';

/**
 * The options deployers tune in production without a change to the code, by environment
 * variable. The one table of variable → option: the docs and the tests are written from it.
 */
export const ENVIRONMENT_OPTIONS = {
  CHECKPOINTER_DURABILITY: 'durability',
  CHECKPOINTER_FSYNC_INTERVAL_MS: 'fsyncIntervalMs',
  CHECKPOINTER_BATCH_SIZE: 'batchSize',
  CHECKPOINTER_BATCH_INTERVAL_MS: 'batchIntervalMs',
  CHECKPOINTER_BACKUPS: 'backups',
  CHECKPOINTER_SNAPSHOT_INTERVAL_MS: 'snapshotIntervalMs',
} as const;

export type EnvironmentVariable = keyof typeof ENVIRONMENT_OPTIONS;
type TunedOption = (typeof ENVIRONMENT_OPTIONS)[EnvironmentVariable];

/** The options set by environment variables. */
export type EnvironmentOptions = Partial<Pick<FileStoreOptions, TunedOption>>;

/* Each variable follows the rule of its option, so that a value is refused or accepted exactly as in code. */
const ruleOf = (option: TunedOption): OptionRule => FILE_STORE_OPTIONS[option];

/** Numbers are read as written ("250", "0.5", "-1"); anything else stays text, for the rule to refuse. */
function readValue(option: TunedOption, text: string): string | number {
  if (option === 'durability') return text;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function invalidVariable(variable: EnvironmentVariable, text: string, rule: OptionRule): CheckpointArgumentError {
  const near = rule.values ? closest(text, rule.values) : undefined;
  const hint = near === undefined ? '' : ` — did you mean '${near}'?`;
  return new CheckpointArgumentError(
    `Expected the environment variable ${variable} (the option \`${ENVIRONMENT_OPTIONS[variable]}\`) to be ${rule.expected}, got ${JSON.stringify(text)}${hint} — correct it or unset it`,
  );
}

/**
 * The options set in `env`, each checked by the rule of its option. An unset or empty variable
 * sets nothing; surrounding spaces are ignored.
 *
 * @throws CheckpointArgumentError naming the variable, its value and what it may be
 * @example environmentOptions({ CHECKPOINTER_DURABILITY: 'full' }) // { durability: 'full' }
 */
export function environmentOptions(env: NodeJS.ProcessEnv = process.env): EnvironmentOptions {
  const options: Record<string, string | number> = {};
  for (const [variable, option] of Object.entries(ENVIRONMENT_OPTIONS) as [EnvironmentVariable, TunedOption][]) {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const value = readValue(option, text);
    const rule = ruleOf(option);
    if (rule.test(value, option) !== true) throw invalidVariable(variable, text, rule);
    options[option] = value;
  }
  return options as EnvironmentOptions;
}

/**
 * `options` over the environment's: an option given in code (not `undefined`) wins over its
 * variable. Options the store does not take yet are left out. Anything but a plain object is
 * handed back as it is, for the store's own check to refuse.
 */
export function withEnvironmentOptions<T extends FileStoreOptions>(options: T, env: NodeJS.ProcessEnv = process.env): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  const merged: Record<string, unknown> = {};
  for (const [option, value] of Object.entries(environmentOptions(env))) {
    if (Object.hasOwn(FILE_STORE_OPTIONS, option)) merged[option] = value;
  }
  for (const key in options) {
    if (options[key] !== undefined) merged[key] = options[key];
  }
  return merged as T;
}
