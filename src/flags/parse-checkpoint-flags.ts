import { parseArgs } from 'node:util';
import { CheckpointArgumentError } from '../core/errors.js';
import { checkValue, editDistance, rule } from '../core/validate-options.js';
import { suggestFlag } from './suggest-flag.js';

/** The resume flags of a pipeline script, ready to pass to `Pipeline.run`. */
export interface CheckpointFlags {
  /**
   * Resume from the saved checkpoint: `true` unless `--no-checkpoint` (or `--resume=false`) was
   * given. `--resume` says so explicitly: resuming is the default here, while some scripts
   * needed the flag.
   */
  resume: boolean;
  /**
   * Discard the saved checkpoint and start a new run: `--force`, `--force-restart` or
   * `--reset-checkpoint`.
   */
  force: boolean;
  /** `--reset-checkpoint` was given (it implies `force`). */
  resetCheckpoint: boolean;
  /**
   * `--no-checkpoint` was given: run everything without reading or writing a checkpoint
   * (`resume` is then `false`).
   */
  noCheckpoint: boolean;
  /**
   * `'auto'` when none of `--resume`, `--force`, `--force-restart`, `--reset-checkpoint` and
   * `--no-checkpoint` was given: the run asks whether to resume a checkpoint that exists, if
   * standard input is a terminal (see `confirmResume`). `false` once the command line decided.
   */
  prompt: 'auto' | false;
  /** Every other argument, in order, for the script's own parser. */
  rest: string[];
}

const FLAGS = {
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
  'force-restart': { type: 'boolean' },
  'reset-checkpoint': { type: 'boolean' },
  'no-checkpoint': { type: 'boolean' },
} as const;

type FlagName = keyof typeof FLAGS;

/*
 * Flags the parser does not know belong to the script's own parser (`--resume-from`, `--forced`),
 * which sees them in `rest` — except those that speak of a checkpoint (`--checkpoint-reset`,
 * `--no-checkpoints`) and near misses of ours (`--FORCE`, `--force-restar`, `--reset-checkpiont`):
 * passed on, a misspelt one would silently resume or start over.
 */
const KNOWN = Object.keys(FLAGS).map((name) => `--${name}`);
const ARGV = rule('an array of strings', (value) => Array.isArray(value) && value.every((arg) => typeof arg === 'string'));
const FLAG_VALUE = rule('given without a value (or as =true / =false)', (value) => value === 'true' || value === 'false');

/** One of our flags in other case, or within two typos of one of the long ones (short ones like `--force` are too near a script's own `--forced`). */
function isNearMiss(name: string): boolean {
  const lower = name.toLowerCase();
  return Object.hasOwn(FLAGS, lower) || Object.keys(FLAGS).some((flag) => flag.length >= 12 && editDistance(lower, flag) <= 2);
}

function unknownCheckpointFlag(rawName: string): CheckpointArgumentError {
  const near = suggestFlag(rawName.slice(2), Object.keys(FLAGS));
  const hint = near === undefined ? 'the' : `did you mean \`--${near}\`? The`;
  return new CheckpointArgumentError(
    `Unknown flag \`${rawName}\` — ${hint} checkpoint flags are ${KNOWN.map((flag) => `\`${flag}\``).join(', ')}; ` +
      "a flag of the script's own that names a checkpoint goes after `--`",
  );
}

/** `--force` and `--force=true` set a flag, `--force=false` clears it; other values are a mistake. */
function flagValue(name: string, value: string | undefined): boolean {
  return value === undefined || checkValue(`--${name}`, value, FLAG_VALUE) === 'true';
}

/**
 * Reads the resume flags the seeds' scripts share from a command line, and leaves the rest to
 * the script's own parser:
 *
 * - `--resume`: continue from the checkpoint (the default);
 * - `--force` (or `--force-restart`): ignore the saved checkpoint, delete it and start over;
 * - `--reset-checkpoint`: clear the checkpoint and start from the beginning (same as `--force`);
 * - `--no-checkpoint`: process everything without reading or writing a checkpoint.
 *
 * Arguments after `--` are never taken as flags. Any other flag is left in `rest`, unless it
 * names a checkpoint (`--checkpoint-reset`): that is a mistake, refused with a suggestion.
 *
 * @param argv the arguments without node and the script
 * @default argv process.argv.slice(2)
 * @throws CheckpointArgumentError for `--no-checkpoint` with `--resume`, a flag with a value
 *   other than true/false, or an unknown flag that names a checkpoint
 *
 * @example
 * // Pipeline: the flags are run options as they are.
 * const flags = parseCheckpointFlags();
 * const result = await new TrainPipeline({ path: 'runs/x/.checkpoint.json' }).run(context, flags);
 *
 * @example
 * // Your own loop with a CheckpointManager.
 * const flags = parseCheckpointFlags();
 * const cp = await CheckpointManager.open(
 *   flags.noCheckpoint
 *     ? { store: new MemoryStore() }
 *     : { path: 'input_data/pipeline_checkpoint.json', onConfigChange: flags.force ? 'restart' : 'reject' },
 * );
 * if (flags.force) await cp.resetAll();
 */
export function parseCheckpointFlags(argv: readonly string[] = process.argv.slice(2)): CheckpointFlags {
  checkValue('argv', argv, ARGV);
  // strict: false keeps the script's own options (and their values) as they are.
  const { tokens } = parseArgs({ args: [...argv], options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  const given: Partial<Record<FlagName, boolean>> = {};
  const taken = new Set<number>();
  for (const token of tokens) {
    // Only the long spelling counts: `-force` or a short group is the script's business.
    if (token.kind !== 'option' || token.rawName !== `--${token.name}`) continue;
    if (!Object.hasOwn(FLAGS, token.name)) {
      if (/checkpoint/i.test(token.name) || isNearMiss(token.name)) throw unknownCheckpointFlag(token.rawName);
      continue;
    }
    given[token.name as FlagName] = flagValue(token.name, token.value);
    taken.add(token.index);
  }
  const noCheckpoint = given['no-checkpoint'] ?? false;
  if (noCheckpoint && given.resume) {
    throw new CheckpointArgumentError('Expected either `--resume` or `--no-checkpoint`, got both');
  }
  const resetCheckpoint = given['reset-checkpoint'] ?? false;
  const force = (given.force ?? false) || (given['force-restart'] ?? false) || resetCheckpoint;
  return {
    resume: given.resume ?? !noCheckpoint,
    force,
    resetCheckpoint,
    noCheckpoint,
    prompt: given.resume === undefined && !force && !noCheckpoint ? 'auto' : false,
    rest: argv.filter((_, index) => !taken.has(index)),
  };
}
