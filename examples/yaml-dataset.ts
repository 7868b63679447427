/**
 * The dataset demo behind `npm run example:yaml`: preparing a voice dataset in three stages,
 * with the checkpoint in a human-readable YAML file, `pipeline_state.yaml`.
 *
 *   download_audio → isolate_speakers → enhance_audio
 *
 * Each stage checkpoints every file it finishes, so a crash costs at most the file in hand; a
 * completed stage is skipped as a whole, and its timing is kept as the stage's result. The
 * checkpoint is locked while a run holds it: a second run at the same time is refused with the
 * holder's pid, and the lock of a run that crashed is taken over.
 *
 * The demo: run 1 is a child process killed by SIGKILL while enhancing a file — no cleanup, so
 * its lock stays behind. `checkpoint-resume status` then shows the checkpoint and the dead holder.
 * Run 2 takes the stale lock over, skips the two completed stages and the files already
 * enhanced, enhances the rest and deletes the checkpoint. `EXAMPLE_ITEMS` sets the number of
 * audio files (default 12).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CheckpointManager } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const output = relative(process.cwd(), join(here, '.runs', 'yaml-dataset', 'my-voice'));
const path = join(output, 'pipeline_state.yaml');
const fileCount = Number(process.env.EXAMPLE_ITEMS ?? 12);
const crashAt = process.env.CRASH_AT_FILE;

const audioFiles = Array.from({ length: fileCount }, (_, i) => `audio/clip_${String(i + 1).padStart(2, '0')}.wav`);

/** A stage runs `work` on every file not done yet, 3 at a time, with a progress bar on a terminal. */
async function runFiles(cp: CheckpointManager, stage: string, work: (file: string) => Promise<void>): Promise<void> {
  const report = await cp.step(stage).forEach(audioFiles, work, { concurrency: 3, progress: true });
  console.log(`    ${report.completed} files done in this run`);
}

async function enhance(cp: CheckpointManager): Promise<void> {
  // One file at a time, as the enhancer needs the whole GPU: the seed's per-file loop.
  for (const file of audioFiles) {
    if (cp.isItemCompleted('enhance_audio', file)) {
      console.log(`    ⏭ already enhanced: ${file}`);
      continue;
    }
    if (file === crashAt) {
      console.log(`    💥 crashing on purpose while enhancing ${file}: SIGKILL, the lock stays behind`);
      process.kill(process.pid, 'SIGKILL');
    }
    await cp.markItemInProgress('enhance_audio', file);
    await sleep(30);
    await cp.markItemCompleted('enhance_audio', file, { loudness: -16 });
    console.log(`    🎵 enhanced: ${file}`);
  }
}

const stages: Array<{ name: string; run: (cp: CheckpointManager) => Promise<void> }> = [
  { name: 'download_audio', run: (cp) => runFiles(cp, 'download_audio', () => sleep(15)) },
  { name: 'isolate_speakers', run: (cp) => runFiles(cp, 'isolate_speakers', () => sleep(25)) },
  { name: 'enhance_audio', run: enhance },
];

async function run(label: string): Promise<void> {
  const lockLeftBehind = existsSync(`${path}.lock`);
  const cp = await CheckpointManager.open({
    path,
    pipeline: 'kokoro_dataset',
    config: { input_paths: ['./audio-files/'], whisper_model: 'medium', enhancement_mode: 'balanced' },
  });
  if (lockLeftBehind) console.log(`${label} 🔒 took over the lock a crashed run left behind`);
  const done = cp.getProgressSummary().stages;
  console.log(done.length > 0 ? `${label} 📂 resuming; completed stages: [${done.join(', ')}]` : `${label} 🚀 starting a new dataset`);

  for (const stage of stages) {
    if (cp.isStageCompleted(stage.name)) {
      const timing = cp.getStageResult<{ seconds: number }>(stage.name);
      console.log(`  ⏭ ${stage.name}: completed before (took ${timing?.seconds}s)`);
      continue;
    }
    console.log(`  ▶ ${stage.name}`);
    const started = Date.now();
    await stage.run(cp);
    await cp.markStageCompleted(stage.name, { seconds: (Date.now() - started) / 1000 });
  }

  const summary = cp.getProgressSummary();
  const counts = stages.map((stage) => `${stage.name} ${summary.steps[stage.name]?.completed ?? 0}/${fileCount}`);
  const { removed, left } = await cp.complete(); // kept, with a warning, if files failed
  if (removed) console.log(`${label} ✅ dataset ready: ${counts.join(', ')}; ${path} deleted`);
  else console.log(`${label} ⚠ ${left.failed} files failed: ${path} kept, run again to retry them`);
}

if (crashAt) {
  await run('[run 1]');
} else {
  rmSync(dirname(output), { recursive: true, force: true });
  mkdirSync(output, { recursive: true });
  const crashFile = audioFiles[Math.floor(fileCount / 2)] ?? audioFiles[0];
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CRASH_AT_FILE: crashFile },
    stdio: 'inherit',
  });
  if (child.status === 0) throw new Error('the first run was meant to crash, but it finished');
  console.log(`\n[demo] the first run died (${child.signal ?? `exit code ${child.status}`}). What it left, as \`checkpoint-resume status\` shows it:\n`);
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'status', path], { stdio: 'inherit', cwd: process.cwd() });
  console.log('\n[demo] running again…');
  await run('[run 2]');
}
