import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { files, runCli, tempDir } from './cli-helpers.js';
import { DrivenRun, PipedWatch } from './watch-process.js';

/** `watch` with its output going to a pipe (a log file, CI): plain lines, and an end of its own. */

const ANSI = /\u001b/;
const runs: DrivenRun[] = [];
const watches: PipedWatch[] = [];

async function startRun(path: string, ...totals: string[]): Promise<DrivenRun> {
  const run = await DrivenRun.start(path, ...totals);
  runs.push(run);
  return run;
}

function watch(args: string[], env: NodeJS.ProcessEnv = {}): PipedWatch {
  const started = new PipedWatch(args, env);
  watches.push(started);
  return started;
}

afterEach(async () => {
  for (const started of watches.splice(0)) {
    started.process.kill('SIGKILL');
    await started.exited;
  }
  for (const run of runs.splice(0)) await run.worker.kill();
});

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('checkpoint-resume watch, output not a terminal', () => {
  it('writes a line per step only when its counts change, new errors, the lock freed, then ends by itself with 0', async () => {
    const path = join(tempDir(), 'cp.json');
    const run = await startRun(path, 'enrich=10');
    // FORCE_COLOR asks for colour, but the output is a pipe: there is none.
    const watching = watch([path, '--interval', '100'], { FORCE_COLOR: '1' });
    await watching.waitForLine((line) => line.includes(`watching ${path} (JSON): pipeline watched, run id `));
    await watching.waitForLine((line) => line.includes(' enrich 0/10 '));

    await run.send('complete enrich 3');
    await watching.waitForLine((line) => line.includes(' enrich 3/10 '));
    await run.send('fail enrich item-x upstream said no');
    await watching.waitForLine((line) => line.endsWith(' error enrich  item-x  upstream said no'));
    await run.send('complete enrich 7');
    await watching.waitForLine((line) => line.includes(' enrich 10/10 '));
    // Many refreshes happened while the test waited on each step, but nothing was repeated.
    const beforeEnd = [...watching.lines];
    await run.close();

    expect(await watching.exited).toBe(0);
    expect(watching.stderr).toBe('');
    const lines = watching.lines;
    for (const line of lines) expect(line).toMatch(TIME);
    expect(lines.join('\n')).not.toMatch(ANSI);
    // 3 completed, then the failure: a line each.
    expect(lines.filter((line) => line.includes(' enrich 3/10 ')).map((line) => /failed \d/.exec(line)![0])).toEqual(['failed 0', 'failed 1']);
    expect(lines.filter((line) => line.includes(' error '))).toHaveLength(1);
    expect(lines.filter((line) => line.includes(' watching '))).toHaveLength(1);
    expect(beforeEnd.filter((line) => line.includes(' enrich 10/10 '))).toHaveLength(1);
    expect(lines.find((line) => line.includes(' enrich 10/10 '))).toMatch(/ enrich 10\/10 {2}100\.0% {2}\S+ {2}done {2}failed 1 {2}dead letters 0 {2}pending 0 {2}in progress 0$/);
    const tail = lines.slice(beforeEnd.length).map((line) => line.replace(TIME, ''));
    expect(tail).toEqual(['lock: no run holds the lock: the run is over (or has not started)', 'done: no run holds the lock and nothing changed since the last look']);
  });

  it('a run that succeeds and removes its checkpoint ends the watch with 0, not a missing-file error', async () => {
    const path = join(tempDir(), 'cp.json');
    const run = await startRun(path, 'w=4');
    const watching = watch([path, '--interval', '100']);
    await watching.waitForLine((line) => line.includes(' w 0/4 '));
    await run.send('complete w 4');
    await watching.waitForLine((line) => line.includes(' w 4/4 '));
    await run.close('finish');
    expect(await watching.exited).toBe(0);
    expect(watching.stderr).toBe('');
    expect(watching.lines.at(-1)!.replace(TIME, '')).toBe('done: the checkpoint was removed (the run completed, or it was deleted)');
  });

  it('on a checkpoint no run holds, writes its state once and ends; nothing on disk changes', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.yaml');
    const run = await startRun(path, 'enrich=2');
    await run.send('complete enrich 2');
    await run.close();
    const before = { listing: files(directory), snapshot: readFileSync(path) };
    const { code, stdout, stderr } = await runCli(['watch', path, '--interval', '100']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n').map((line) => line.replace(TIME, ''));
    expect(lines).toEqual([
      expect.stringMatching(/^watching .*cp\.yaml \(YAML\): pipeline watched, run id [0-9a-f-]{36}; lock: no run holds the lock/),
      expect.stringMatching(/^enrich 2\/2 {2}100\.0% {2}-\/s {2}done {2}failed 0/),
      'done: no run holds the lock and nothing changed since the last look',
    ]);
    expect({ listing: files(directory), snapshot: readFileSync(path) }).toEqual(before);
  });

  it('a signal stops it with 0 while the run goes on', async () => {
    const path = join(tempDir(), 'cp.json');
    const run = await startRun(path, 'enrich=10');
    const watching = watch([path, '--interval', '100']);
    await watching.waitForLine((line) => line.includes(' enrich 0/10 '));
    watching.process.kill('SIGTERM');
    expect(await watching.exited).toBe(0);
    expect(watching.stderr).toBe('');
    await run.send('complete enrich 1');
  });

  it('--once prints one frame without "press q" and exits 0, also while a run holds the lock', async () => {
    const path = join(tempDir(), 'cp.json');
    const run = await startRun(path, 'enrich=4');
    await run.send('complete enrich 1');
    await run.send('fail enrich item-y no luck');
    const { code, stdout, stderr } = await runCli(['watch', path, '--once'], { FORCE_COLOR: '1' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(ANSI);
    expect(stdout).not.toMatch(/press q|still watching/);
    expect(stdout).toContain(`${path} (JSON)\nPipeline  watched\n`);
    expect(stdout).toContain(`Lock      held by process ${run.pid} on `);
    expect(stdout).toMatch(/^enrich {2}█{8}░{22} {2}1\/4 {3}25\.0% {2}-\/s {2}ETA \?$/m);
    expect(stdout).toContain('failed 1  dead letters 0  pending 2  in progress 0');
    expect(stdout).toContain('  enrich  item-y  no luck');
  });

  it('a missing checkpoint is exit 1 with a message when nobody can wait at a terminal; bad options are usage errors', async () => {
    const directory = tempDir();
    const missing = await runCli(['watch', join(directory, 'none.json'), '--interval', '100']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `error: ${join(directory, 'none.json')}: no checkpoint here (no such file) — check the path; a pipeline creates it on its first run\n` });
    const once = await runCli(['watch', join(directory, 'none.json'), '--once']);
    expect(once.code).toBe(1);

    for (const interval of ['0', '99', '1.5', 'soon', '-100']) {
      const bad = await runCli(['watch', join(directory, 'none.json'), '--interval', interval]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`option '--interval <ms>' argument '${interval}' is invalid. expected a whole number of milliseconds >= 100, got "${interval}"`);
    }
    const extension = await runCli(['watch', join(directory, 'cp.txt')]);
    expect(extension.code).toBe(2);
    expect(extension.stderr).toContain('Expected a checkpoint path ending in .json, .yaml or .yml');
    const database = await runCli(['watch', join(directory, 'cp.json'), '--pipeline', 'p']);
    expect(database.code).toBe(2);
    expect(database.stderr).toContain('--pipeline: only for a postgres:// checkpoint');
  });
});
