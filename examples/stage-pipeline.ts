/**
 * The stage-pipeline demo behind `npm run example:stages`: a data collection pipeline in five
 * stages, written with the CheckpointManager's stage calls.
 *
 *   pull_repo_exts → preparation → extension_data → code_examples → settings
 *
 * - The first two are pre-stages: they only make sense together, so if either did not complete,
 *   a resumed run runs both again.
 * - `pull_repo_exts` finds values the later stages need (the kit's cache path and version); they
 *   are saved as a config snapshot after every stage and restored when a run resumes.
 * - `extension_data` checkpoints each extension it reads, so a crash inside it costs one item.
 * - The script takes the usual flags through parseCheckpointFlags: `--resume` (the default),
 *   `--force` (start over), `--no-checkpoint`, plus its own `--end <stage>` (stop after a stage;
 *   the checkpoint is kept for a later run).
 *
 * The demo: run 1 is a child process killed by SIGKILL inside `preparation`. Run 2
 * (`--resume --end extension_data`) runs both pre-stages again, then `extension_data`, and stops.
 * Run 3 (`--resume`) restores the config snapshot, skips the three completed stages and finishes;
 * the checkpoint is then deleted. `EXAMPLE_ITEMS` sets the number of extensions (default 40).
 * Given any flags, the script makes just one run with them instead of the demo.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CheckpointManager, MemoryStore, parseCheckpointFlags, type JsonObject } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const path = relative(process.cwd(), join(here, '.runs', 'stage-pipeline', '.pipeline_checkpoint.json'));
const extensionCount = Number(process.env.EXAMPLE_ITEMS ?? 40);
const crashIn = process.env.CRASH_IN_STAGE;

const STAGES = ['pull_repo_exts', 'preparation', 'extension_data', 'code_examples', 'settings'] as const;
type Stage = (typeof STAGES)[number];
const PRE_STAGES: readonly Stage[] = ['pull_repo_exts', 'preparation'];

/** The static config, checked against the checkpoint (a different one is refused unless --force). */
const STATIC_CONFIG = { work_dir: 'work', max_extensions: extensionCount };
/** Values a stage finds at run time; saved after every stage as the config snapshot. */
type Config = typeof STATIC_CONFIG & { kit_cache_path?: string; kit_version?: string };

type StageRun = (cp: CheckpointManager, config: Config) => Promise<JsonObject>;

const stages: Record<Stage, StageRun> = {
  pull_repo_exts: async (_cp, config) => {
    await sleep(100);
    config.kit_cache_path = `${config.work_dir}/extscache`;
    config.kit_version = '107.3.0';
    console.log(`    pulled the extension repository; kit ${config.kit_version}, cache at ${config.kit_cache_path}`);
    return { kit_version: config.kit_version };
  },
  preparation: async () => {
    await sleep(100);
    if (crashIn === 'preparation') {
      console.log('    💥 crashing on purpose in preparation: SIGKILL, no cleanup');
      process.kill(process.pid, 'SIGKILL');
    }
    console.log('    prepared the build tree');
    return { prepared: true };
  },
  extension_data: async (cp, config) => {
    const extensions = Array.from({ length: config.max_extensions }, (_, i) => `omni.kit.ext_${String(i + 1).padStart(3, '0')}`);
    // progress: a bar on standard error while the items run (only on a terminal, not in CI).
    const report = await cp.step('extension_data').forEach(extensions, () => sleep(10), { concurrency: 4, progress: true });
    console.log(`    read ${report.completed} extensions in this run (${report.skipped} were read before)`);
    return { extensions: extensions.length, cache: config.kit_cache_path ?? '?' };
  },
  code_examples: async (cp) => {
    await sleep(50);
    const data = cp.getStageResult<{ extensions: number }>('extension_data');
    const examples = (data?.extensions ?? 0) * 2;
    console.log(`    extracted ${examples} code examples from ${data?.extensions} extensions (a result extension_data saved)`);
    return { examples };
  },
  settings: async (_cp, config) => {
    await sleep(50);
    console.log(`    wrote the settings for kit ${config.kit_version}`);
    return { settings: 12 };
  },
};

async function run(label: string, argv: string[]): Promise<void> {
  console.log(`${label} ${argv.join(' ') || '(no flags)'}`);
  const flags = parseCheckpointFlags(argv);
  const { values } = parseArgs({ args: flags.rest, options: { end: { type: 'string' } } });
  const end = (values.end ?? 'settings') as Stage;
  if (!STAGES.includes(end)) {
    console.error(`--end must be one of ${STAGES.join(', ')}, got "${end}"`);
    process.exit(2);
  }

  const cp = await CheckpointManager.open(
    flags.noCheckpoint
      ? { store: new MemoryStore(), pipeline: 'data_collection' }
      : { path, pipeline: 'data_collection', config: STATIC_CONFIG, onConfigChange: flags.force ? 'restart' : 'reject' },
  );
  if (flags.force || !flags.resume) await cp.resetAll();

  const completed = cp.getProgressSummary().stages;
  const preStagesDone = PRE_STAGES.every((stage) => cp.isStageCompleted(stage));
  const config: Config = { ...STATIC_CONFIG };
  if (completed.length > 0) console.log(`  resuming: completed_stages = [${completed.join(', ')}]`);
  if (preStagesDone) {
    Object.assign(config, cp.context.config_snapshot);
    if (completed.length > 0) console.log(`  restored config_snapshot: kit ${config.kit_version}, cache at ${config.kit_cache_path}`);
  } else if (completed.length > 0) {
    console.log('  a pre-stage did not complete: running all pre-stages again');
  }

  for (const stage of STAGES.slice(0, STAGES.indexOf(end) + 1)) {
    const rerun = PRE_STAGES.includes(stage) && !preStagesDone;
    if (cp.isStageCompleted(stage) && !rerun) {
      console.log(`  ⏭ ${stage}: completed before`);
      continue;
    }
    console.log(`  ▶ ${stage}`);
    const result = await stages[stage](cp, config);
    await cp.markStageCompleted(stage, result);
    // Saved after every stage, as the values a resumed run must see again.
    await cp.setContext({ config_snapshot: config });
  }

  const stagesNow = cp.getProgressSummary().stages;
  if (end !== 'settings') {
    await cp.close();
    console.log(`${label} stopped after --end ${end}; completed_stages = [${stagesNow.join(', ')}]; checkpoint kept at ${path}`);
    return;
  }
  const { removed, left } = await cp.complete(); // kept, with a warning, if items failed
  if (removed) console.log(`${label} all stages completed: [${stagesNow.join(', ')}]; checkpoint deleted`);
  else console.log(`${label} ${left.failed} items failed: checkpoint kept at ${path}, run again to retry them`);
}

// With flags it is one run, as you would call it: `npx tsx examples/stage-pipeline.ts --resume --end code_examples`.
if (crashIn || process.argv.length > 2) {
  await run(crashIn ? '[run 1]' : '[run]', process.argv.slice(2));
} else {
  rmSync(dirname(path), { recursive: true, force: true });
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--force'], {
    env: { ...process.env, CRASH_IN_STAGE: 'preparation' },
    stdio: 'inherit',
  });
  if (child.status === 0) throw new Error('the first run was meant to crash, but it finished');
  console.log(`[demo] the first run died (${child.signal ?? `exit code ${child.status}`}); its checkpoint is at ${path}\n`);
  await run('[run 2]', ['--resume', '--end', 'extension_data']);
  console.log();
  await run('[run 3]', ['--resume']);
}
