import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'examples');
/** Files in examples/ that are libraries for other code, not programs to run. */
const LIBRARIES = new Set(['custom-store.ts']);
const TESTED = ['item-loop.ts', 'video-pipeline.ts', 'llm-batch.ts', 'stage-pipeline.ts', 'yaml-dataset.ts', 'cloud-checkpoint.ts'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs an example the way `npm run example:*` does, as its own process from the repository root. */
function runExample(file: string, env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CRASH_')));
  const child = spawn(process.execPath, ['--import', 'tsx', join(examples, file)], {
    cwd: root,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Exit code 0, with the output in the failure message when it is not. */
function expectSuccess(run: Run): void {
  expect(run.code, `exit ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(0);
}

describe('examples', () => {
  it('tests every runnable example and documents it in examples/README.md', () => {
    const runnable = readdirSync(examples).filter((name) => name.endsWith('.ts') && !LIBRARIES.has(name));
    expect(runnable.sort()).toEqual([...TESTED].sort());
    const readme = readFileSync(join(examples, 'README.md'), 'utf8');
    for (const file of runnable) expect(readme).toContain(file);
  });

  describe.concurrent('each crashes once and resumes in one invocation', () => {
    it('item-loop.ts: SIGKILLed after 300 documents, the second run finishes the rest', async () => {
      const run = await runExample('item-loop.ts');
      expectSuccess(run);
      expect(run.stdout).toContain('[run 1] simulating a crash: SIGKILL after 300 documents');
      expect(run.stdout).toContain('[demo] first run ended by SIGKILL; resuming');
      // Every acknowledged document survived the kill: 300 marked, of which 3 failed (retried now).
      expect(run.stdout).toContain('[run 2] 297 documents already done, 203 to go');
      // The step's total is saved: progress reads as done/total (percent), in both runs.
      expect(run.stdout).toContain('[run 1] 297/500 documents (59.4%), 3 failed');
      expect(run.stdout).toContain('[run 2] 393/500 documents (78.6%), 4 failed');
      // Documents 97, 194, 291, 388 and 485 fail every time; the rest complete.
      expect(run.stdout).toContain('[run 2] finished: 495 completed, 5 failed');
    });

    it('video-pipeline.ts: crashes while extracting frames, the resumed run skips the download', async () => {
      const run = await runExample('video-pipeline.ts');
      expectSuccess(run);
      expect(run.stdout).toContain('crashing on purpose while extracting frame-0030');
      expect(run.stdout).toMatch(/\[demo\] the first run died \(exit code 1\)/);
      expect(run.stdout).toContain('resumed from checkpoint: true');
      expect(run.stdout).toContain('skipped steps:   download');
      expect(run.stdout).toMatch(/skipped \d+ frames extracted by the earlier run/);
      expect(run.stdout).toContain('"framesExtracted":48');
      expect(run.stdout).toContain('checkpoint deleted: the run is complete');
    });

    it('llm-batch.ts: interrupted by SIGINT with exit code 75, the second run resumes', async () => {
      const run = await runExample('llm-batch.ts');
      expectSuccess(run);
      expect(run.stdout).toContain('run 1 exited with 75');
      expect(run.stdout).toMatch(/resuming: \d+ documents already summarised/);
      expect(run.stdout).toMatch(/finished: \d+ summarised in \d+ ms, 0 failed, \d+ skipped/);
      expect(run.stdout).toContain('run 2 exited with 0');
    });

    it('stage-pipeline.ts: killed in a pre-stage, resumed with --end, then finished', async () => {
      const run = await runExample('stage-pipeline.ts', { EXAMPLE_ITEMS: '8' });
      expectSuccess(run);
      const out = run.stdout;
      expect(out).toContain('💥 crashing on purpose in preparation');
      expect(out).toContain('[demo] the first run died (SIGKILL)');
      // Run 2: pull_repo_exts had completed, preparation had not — both pre-stages run again.
      expect(out).toContain('resuming: completed_stages = [pull_repo_exts]');
      expect(out).toContain('a pre-stage did not complete: running all pre-stages again');
      expect(out.match(/▶ pull_repo_exts/g)).toHaveLength(2);
      expect(out).toContain('read 8 extensions in this run');
      expect(out).toContain('[run 2] stopped after --end extension_data; completed_stages = [pull_repo_exts, preparation, extension_data]');
      // Run 3: the config snapshot found by pull_repo_exts comes back without running it.
      expect(out).toContain('restored config_snapshot: kit 107.3.0, cache at work/extscache');
      expect(out).toContain('⏭ extension_data: completed before');
      expect(out).toContain('extracted 16 code examples from 8 extensions');
      expect(out).toContain('wrote the settings for kit 107.3.0');
      expect(out).toContain('[run 3] all stages completed: [pull_repo_exts, preparation, extension_data, code_examples, settings]; checkpoint deleted');
      expect(existsSync(join(examples, '.runs', 'stage-pipeline', '.pipeline_checkpoint.json'))).toBe(false);
    });

    it('cloud-checkpoint.ts: killed after 250 marks with its checkpoint in Azurite, resumed from the bucket', async () => {
      const run = await runExample('cloud-checkpoint.ts');
      expectSuccess(run);
      const out = run.stdout;
      expect(out).toContain('[run 1] the machine vanishes: SIGKILL after 250 documents');
      expect(out).toMatch(/checkpoint\.json\.segments\/… \(\d+ objects\)/);
      // `full`: the 250 acknowledged marks survived, plus at most the 3 others that were in flight.
      const already = Number(/\[run 2\] (\d+) documents already done, (\d+) to go/.exec(out)?.[1]);
      expect(already).toBeGreaterThanOrEqual(250);
      expect(already).toBeLessThanOrEqual(253);
      expect(out).toContain('[run 2] finished: 400 documents completed');
      expect(out).toMatch(/"checksum": "crc32:[0-9a-f]{8}",\n {2}"version": 1,\n {2}"sequence": \d+,\n {2}"epoch": \d{10},/);
    });

    it('yaml-dataset.ts: killed while enhancing, its stale lock taken over, finished', async () => {
      const run = await runExample('yaml-dataset.ts', { EXAMPLE_ITEMS: '6' });
      expectSuccess(run);
      const out = run.stdout;
      expect(out).toContain('💥 crashing on purpose while enhancing audio/clip_04.wav');
      expect(out).toContain('[demo] the first run died (SIGKILL)');
      // The CLI between the runs: a YAML checkpoint whose lock holder is gone.
      expect(out).toMatch(/pipeline_state\.yaml \(YAML\)/);
      expect(out).toMatch(/Lock +left by process \d+ .*no longer running/);
      expect(out).toContain('[run 2] 🔒 took over the lock a crashed run left behind');
      expect(out).toContain('[run 2] 📂 resuming; completed stages: [download_audio, isolate_speakers]');
      expect(out.match(/⏭ already enhanced/g)).toHaveLength(3);
      expect(out).toContain('[run 2] ✅ dataset ready: download_audio 6/6, isolate_speakers 6/6, enhance_audio 6/6');
      expect(existsSync(join(examples, '.runs', 'yaml-dataset', 'my-voice', 'pipeline_state.yaml'))).toBe(false);
    });
  });
});
