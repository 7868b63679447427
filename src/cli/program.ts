import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { compactCheckpoint, resetCheckpoint, retryFailed, stderrLogger } from './change-commands.js';
import { listBackups, printBackups, restoreBackup } from './backups-command.js';
import { reportError } from './report-error.js';
import { ExitCode } from './exit-codes.js';
import { inspectItems, printInspect } from './inspect-command.js';
import type { Output } from './output.js';
import { buildStatus, printStatus } from './status-command.js';
import { fileOnly, isDatabaseUrl, loadForReading, targetOf, type CheckpointTarget, type DatabaseFlags } from './target.js';
import { printValidation, validateCheckpoint, validateDatabase, validateObject } from './validate-command.js';
import { CliError } from './cli-error.js';
import { filterListing, printList } from './list-command.js';
import { listDatabase, redact } from './postgres-target.js';
import { listDirectory, printDirectoryList } from './directory-list.js';
import { cleanupDirectory, printCleanup } from './cleanup-command.js';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { parseUrlArgument } from './object-target.js';
import { DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, watchCheckpoint } from './watch-command.js';

export interface CliContext {
  out: Output;
  /** The clock, for "updated 3m ago". */
  now(): number;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  success (validate: the checkpoint is valid)
  1  the checkpoint is missing, invalid or damaged, or the command failed
  2  usage error: unknown command or option, missing or bad argument
  3  a running process holds the checkpoint's lock; nothing was changed
  4  unexpected internal error (please report it)

Read-only commands (status, watch, inspect, validate, backups, list) never write and work while a
pipeline runs. reset, retry-failed, restore and compact take the lock and refuse while one runs;
cleanup takes each checkpoint's lock and skips those a running process holds.
A checkpoint in a bucket (az://, s3://, gs://) is held by a lease instead of a lock file: the
same commands take it and refuse while a run holds it. Credentials and endpoints come from
each cloud SDK's own settings (AZURE_STORAGE_CONNECTION_STRING, AWS_*, STORAGE_EMULATOR_HOST).
A PostgreSQL checkpoint (postgres://user@host/db --pipeline NAME) has no lock: stop its workers
before reset or retry-failed. Leave the password out of the URL and set PGPASSWORD to keep it
out of the process list.`;

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return Number(value);
}

function intervalMs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < MIN_INTERVAL_MS) throw new InvalidArgumentError(`expected a whole number of milliseconds >= ${MIN_INTERVAL_MS}, got "${value}"`);
  return Number(value);
}

function version(): string {
  // Built: dist/cli.js → ../package.json; from source: src/cli/program.ts → ../../package.json.
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === PACKAGE_NAME && manifest.version) return manifest.version;
    } catch {
      // Not here; try the next place.
    }
  }
  return 'unknown';
}

type Flags = DatabaseFlags & { json?: boolean };

const NO_BACKUPS = 'PostgreSQL checkpoints have no backup files; use the database\'s own backups (pg_dump, point-in-time recovery)';
const ONE_BACKUP_OBJECT = 'a checkpoint in a bucket keeps one backup object, <key>.bak, which a pipeline reads by itself when the snapshot is damaged; for older versions, turn on your bucket\'s object versioning';

/** Why `command` takes files only, said for the kind of checkpoint given. */
const filesOnly = (target: CheckpointTarget): string => (target.kind === 'object' ? ONE_BACKUP_OBJECT : NO_BACKUPS);

/** `list` and `cleanup` search a directory: a file is a usage error that points at `status`, a missing directory exit code 1. */
async function directoryOnly(command: string, location: string): Promise<void> {
  const info = await stat(location).catch(() => undefined);
  if (!info) throw new CliError(`${command}: ${location}: no such directory — give the directory that holds the checkpoints`);
  if (!info.isDirectory()) {
    throw new CliError(`${command}: takes a directory, searched with its subdirectories${command === 'list' ? ', or a postgres:// URL' : ''}; ${location} is a file — use "checkpoint-resume status ${location}" for one checkpoint`, ExitCode.usage);
  }
}

/**
 * An option the command needs for files, checked after the checkpoint's kind so that a bucket or
 * database is told why the command does not apply to it rather than asked for the option.
 */
function required<T>(value: T | undefined, flags: string): T {
  if (value === undefined) throw new CliError(`required option '${flags}' not specified`, ExitCode.usage);
  return value;
}

/** The package's name on npm, which is also its command's name. */
export const PACKAGE_NAME = 'checkpoint-resume';

/** Builds the `checkpoint-resume` command. Each action sets `exit.code`; errors propagate to runCli. */
function buildProgram(context: CliContext, exit: { code: number }): Command {
  const { out } = context;
  const program = new Command(PACKAGE_NAME)
    .description('Look at and repair checkpointer checkpoints: JSON and YAML files, object storage (az://, s3://, gs://), and PostgreSQL.')
    .version(version(), '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: out.write, writeErr: out.writeError })
    .showHelpAfterError('(run "checkpoint-resume --help" for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  const command = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .argument('<checkpoint>', 'a checkpoint file (.json, .yaml or .yml), its az://, s3:// or gs:// URL, or a postgres:// URL with --pipeline')
      .option('--pipeline <name>', 'PostgreSQL: the checkpoint\'s pipeline')
      .option('--run-id <run>', 'PostgreSQL: the checkpoint\'s run, when it has one')
      .option('--schema <schema>', 'PostgreSQL: the schema that holds the tables (default: checkpointer)')
      .addHelpText('after', EXIT_CODES_HELP);

  command('status', 'pipeline, run id, age, per-step item counts, stages, counters')
    .option('--json', 'print a JSON object for scripts')
    .action(async (argument: string, options: Flags) => {
      const report = buildStatus(await loadForReading(targetOf(argument, options)), context.now());
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printStatus(report, out, context.now());
    });

  command('watch', 'a live view of a run: progress bars per step, failures and the newest errors, redrawn until q')
    .option('--interval <ms>', `how often to read the checkpoint again, in milliseconds (at least ${MIN_INTERVAL_MS})`, intervalMs, DEFAULT_INTERVAL_MS)
    .option('--once', 'print one frame and exit (for scripts)')
    .action(async (argument: string, options: Flags & { interval: number; once?: boolean }) => {
      const watch = { intervalMs: options.interval, once: options.once === true };
      await watchCheckpoint(targetOf(argument, options), watch, { out, now: context.now, stdin: process.stdin, stdout: process.stdout });
    });

  command('inspect', 'list items with their status, attempts and last error (failures first)')
    .option('--step <name>', 'only this step')
    .option('--failed', 'only failed and dead-letter items')
    .option('--limit <n>', 'show at most n items (0 for all)', nonNegativeInteger, 50)
    .option('--json', 'print a JSON object for scripts')
    .action(async (argument: string, options: Flags & { step?: string; failed?: boolean; limit: number }) => {
      const { state } = await loadForReading(targetOf(argument, options));
      const report = inspectItems(state, options);
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printInspect(report, out);
    });

  command('validate', 'check the checkpoint against the schema (and a file\'s journal records); exit 1 if anything is wrong')
    .option('--json', 'print a JSON object for scripts')
    .action(async (argument: string, options: Flags) => {
      const target = targetOf(argument, options);
      const report = target.kind === 'postgres' ? await validateDatabase(target) : target.kind === 'object' ? await validateObject(target) : await validateCheckpoint(target.path);
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printValidation(report, out);
      exit.code = report.valid ? ExitCode.ok : ExitCode.failed;
    });

  command('reset', 'forget a step (its items are all done again), or without --step everything but the run id and config')
    .option('--step <name>', 'only this step')
    .action(async (argument: string, options: Flags & { step?: string }) => {
      out.line(await resetCheckpoint(targetOf(argument, options), options.step, stderrLogger(out.error)));
    });

  command('retry-failed', 'make failed and dead-letter items pending again, so the next run retries them')
    .option('--step <name>', 'only this step')
    .action(async (argument: string, options: Flags & { step?: string }) => {
      out.line(await retryFailed(targetOf(argument, options), options.step, stderrLogger(out.error)));
    });

  command('backups', 'list the checkpoint file and its backups with their time, size and item counts (files only)')
    .option('--json', 'print a JSON object for scripts')
    .action(async (argument: string, options: Flags) => {
      const target = targetOf(argument, options);
      const file = fileOnly(target, 'backups', filesOnly(target));
      const report = await listBackups(file);
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printBackups(report, out, context.now());
    });

  command('restore', 'make a backup the checkpoint again; the current file is moved aside, never deleted (files only)')
    .option('--backup <n>', 'required: which backup, 0 for file.bak, 1 for file.bak.1, … (see "backups")', nonNegativeInteger)
    .action(async (argument: string, options: Flags & { backup?: number }) => {
      const target = targetOf(argument, options);
      const file = fileOnly(target, 'restore', filesOnly(target));
      const result = await restoreBackup(file, required(options.backup, '--backup <n>'));
      out.line(`Restored ${file} from ${result.from}.`);
      for (const moved of result.movedAside) out.line(`Kept the replaced file as ${moved}`);
    });

  command('compact', 'fold the journal into a new snapshot now (the old snapshot becomes a backup); nothing to do in PostgreSQL')
    .action(async (argument: string, options: Flags) => {
      out.line(await compactCheckpoint(targetOf(argument, options), stderrLogger(out.error)));
    });

  program
    .command('list')
    .description('list the checkpoints under a directory (files) or a bucket prefix, or in a PostgreSQL schema: pipeline, item counts, last update, lock')
    .argument('<dir|url>', 'a directory, searched with its subdirectories; an az://, s3:// or gs:// prefix; or a postgres:// URL')
    .option('--schema <schema>', 'PostgreSQL: the schema that holds the tables (default: checkpointer)')
    .option('--pipeline <name>', 'only the checkpoints of this pipeline')
    .option('--json', 'print a JSON object for scripts')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (location: string, options: Flags) => {
      if (isDatabaseUrl(location)) {
        const report = filterListing(await listDatabase(location, options.schema), options.pipeline);
        if (options.json) out.line(JSON.stringify(report, null, 2));
        else printList(report, out, context.now());
        return;
      }
      const bucket = isBucketUrl(location);
      if (options.schema !== undefined) throw new CliError(`--schema: only for a postgres:// URL; ${location} is ${bucket ? 'a bucket URL' : 'a directory'}`, ExitCode.usage);
      if (bucket) parseUrlArgument(location, 'prefix');
      else await directoryOnly('list', location);
      const report = await listDirectory(location, context.now(), options.pipeline);
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printDirectoryList(report, out, context.now());
    });

  program
    .command('cleanup')
    .description('remove the leftovers of old finished checkpoints under a directory, keeping the newest N untouched (files only)')
    .argument('<dir>', 'a directory, searched with its subdirectories')
    .option('--keep <n>', 'required: how many of the most recently updated checkpoints to leave untouched', nonNegativeInteger)
    .option('--dry-run', 'only say what would be removed; change nothing')
    .option('--json', 'print a JSON object for scripts')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (location: string, options: { keep?: number; dryRun?: boolean; json?: boolean }) => {
      if (isDatabaseUrl(location)) throw new CliError(`cleanup: ${NO_BACKUPS}; remove old checkpoints there with DELETE (see "checkpoint-resume list ${redact(location)}")`, ExitCode.usage);
      if (isBucketUrl(location)) throw new CliError(`cleanup: takes a directory; in a bucket, expire old checkpoints with a lifecycle rule, or delete a finished checkpoint's objects (<key>, <key>.bak, <key>.lease, <key>.segments/) — see "checkpoint-resume list ${location}"`, ExitCode.usage);
      await directoryOnly('cleanup', location);
      const keep = required(options.keep, '--keep <n>');
      const report = await cleanupDirectory(location, { keep, dryRun: options.dryRun === true }, context.now());
      if (options.json) out.line(JSON.stringify(report, null, 2));
      else printCleanup(report, out, context.now());
      if (report.checkpoints.some((checkpoint) => checkpoint.decision === 'failed')) exit.code = ExitCode.failed;
    });

  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const exit = { code: ExitCode.ok as number };
  const program = buildProgram(context, exit);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "exit" with 0; every parse error is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportError(error, context.out);
  }
}
