/**
 * The resume prompt in a real terminal: a pipeline script runs in a tmux pane, the test waits
 * for the question on the screen, types the answer, and checks what became of the checkpoint.
 * Without tmux these tests fail (install it: apt-get install -y tmux); they never skip.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { EXIT_RESUMABLE } from '../../src/runner/exit-code.js';
import { ChildWorker } from '../support/processes.js';
import { failedRun, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

const worker = fileURLToPath(new URL('./children/prompt-worker.ts', import.meta.url));
// A tmux server of this test file's own: other tmux users on the machine are never touched.
const socket = `checkpointer-prompt-${process.pid}`;
let sessions = 0;

function tmux(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, ...args], (error, stdout, stderr) => (error ? reject(new Error(`tmux ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}

afterAll(async () => {
  if (sessions > 0) await tmux('kill-server').catch(() => {});
});

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

interface TerminalRun {
  /** Resolves with the screen once `text` is on it; rejects if the script ends first. */
  waitForScreen(text: string): Promise<string>;
  type(keys: string): Promise<void>;
  /** The script's exit code and what it wrote to its result file. */
  finished: Promise<{ code: number; result: { outcome: string; calls: string[]; runId?: string; resumed?: boolean; message?: string } }>;
}

/** Starts the worker in a new tmux session; `stdin` redirects its input (it stays the terminal otherwise). */
function runInTerminal(checkpoint: string, flags: string[], stdin?: string): TerminalRun {
  const session = `run${++sessions}`;
  const dir = tempDir();
  const resultFile = join(dir, 'result.json');
  const codeFile = join(dir, 'code');
  const node = [process.execPath, '--import', 'tsx', worker, checkpoint, resultFile, ...flags].map(quote).join(' ');
  // The session signals the end of the script on a channel, after writing its exit code.
  const script = `${node}${stdin ? ` < ${quote(stdin)}` : ''}; echo $? > ${quote(codeFile)}; tmux -L ${quote(socket)} wait-for -S ${session}`;
  const started = tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', '-c', process.cwd(), script);
  let ended = false;
  const finished = started.then(
    () =>
      new Promise<void>((resolve, reject) => {
        const waiter = spawn('tmux', ['-L', socket, 'wait-for', session], { stdio: 'ignore' });
        waiter.on('error', reject);
        waiter.on('close', () => resolve());
      }),
  ).then(() => {
    ended = true;
    return { code: Number(readFileSync(codeFile, 'utf8').trim()), result: JSON.parse(readFileSync(resultFile, 'utf8')) as Awaited<TerminalRun['finished']>['result'] };
  });
  return {
    async waitForScreen(text) {
      await started;
      // The screen has no event to wait on: it is read again until the text shows up, and the
      // script's end (an event) stops the wait.
      for (;;) {
        const screen = await tmux('capture-pane', '-p', '-J', '-t', session).catch(() => '');
        if (screen.replaceAll('\n', '').includes(text)) return screen;
        if (ended) throw new Error(`the script ended without showing ${JSON.stringify(text)}; last screen:\n${screen}`);
        await pause(50);
      }
    },
    async type(keys) {
      await tmux('send-keys', '-t', session, keys, 'Enter');
    },
    finished,
  };
}

async function checkpointOf(path: string): Promise<{ runId: string; completed: Record<string, number> } | undefined> {
  const cp = await CheckpointManager.open({ path, pipeline: 'three', lock: false });
  try {
    const steps = cp.getProgressSummary().steps;
    return { runId: cp.runId, completed: Object.fromEntries(Object.entries(steps).map(([step, counts]) => [step, counts.completed])) };
  } finally {
    await cp.close();
  }
}

const QUESTION = /A checkpoint exists for three \(2 items done, updated \d+s ago\)\. Resume \(r\) \/ start over \(s\) \/ quit \(q\)\?/;

describe('the resume prompt in a terminal (tmux)', () => {
  it('tmux is installed: these tests need it and never skip', () => {
    expect(() => execFileSync('tmux', ['-V'], { stdio: 'pipe' }), 'tmux is missing: apt-get install -y tmux').not.toThrow();
  });

  it('asks when a checkpoint exists; r resumes it', async () => {
    const path = join(tempDir(), 'r.json');
    const runId = await failedRun(path);
    const run = runInTerminal(path, ['--limit', '5']);
    const screen = await run.waitForScreen('quit (q)?');
    expect(screen.replaceAll('\n', '')).toMatch(QUESTION);
    await run.type('r');
    const { code, result } = await run.finished;
    expect(result).toEqual({ outcome: 'done', calls: ['b', 'c'], runId, resumed: true });
    expect(code).toBe(0);
  });

  it('s starts over: every step runs again under a new run id', async () => {
    const path = join(tempDir(), 's.json');
    const runId = await failedRun(path);
    const run = runInTerminal(path, []);
    await run.waitForScreen('quit (q)?');
    await run.type('maybe');
    await run.waitForScreen('Please answer r (resume), s (start over) or q (quit)');
    await run.type('s');
    const { code, result } = await run.finished;
    expect(result.outcome).toBe('done');
    expect(result.calls).toEqual(['a', 'b', 'c']);
    expect(result.runId).not.toBe(runId);
    expect(code).toBe(0);
  });

  it('q quits with CheckpointAbortError and exit code 75, and the checkpoint is as it was', async () => {
    const path = join(tempDir(), 'q.json');
    const runId = await failedRun(path);
    const before = await checkpointOf(path);
    const run = runInTerminal(path, []);
    await run.waitForScreen('quit (q)?');
    await run.type('q');
    const { code, result } = await run.finished;
    expect(result.outcome).toBe('CheckpointAbortError');
    expect(result.message).toContain('three: quit at the prompt; the checkpoint is kept');
    expect(result.calls).toEqual([]);
    expect(code).toBe(EXIT_RESUMABLE);
    expect(await checkpointOf(path)).toEqual(before);
    expect(before!.runId).toBe(runId);
  });

  it('never asks with --resume or --force-restart, nor when standard input is not the terminal', async () => {
    const path = join(tempDir(), 'flags.json');
    const runId = await failedRun(path);
    const resumed = await runInTerminal(path, ['--resume']).finished;
    expect(resumed.result).toMatchObject({ outcome: 'done', calls: ['b', 'c'], runId });

    const secondRunId = await failedRun(path);
    const restarted = await runInTerminal(path, ['--force-restart']).finished;
    expect(restarted.result.calls).toEqual(['a', 'b', 'c']);
    expect(restarted.result.runId).not.toBe(secondRunId);

    // Input from a file, output still on the terminal: had it asked, the end of input would quit.
    const thirdRunId = await failedRun(path);
    const fromFile = await runInTerminal(path, [], '/dev/null').finished;
    expect(fromFile.result).toMatchObject({ outcome: 'done', calls: ['b', 'c'], runId: thirdRunId });
    expect(fromFile.code).toBe(0);
  });
});

describe('the resume prompt with piped input (CI, cron)', () => {
  it('never asks and resumes, even with an answer waiting on standard input', async () => {
    const dir = tempDir();
    const path = join(dir, 'piped.json');
    const runId = await failedRun(path);
    const resultFile = join(dir, 'result.json');
    const child = new ChildWorker(worker, [path, resultFile]);
    // Had it asked, it would read this and quit instead of resuming.
    child.process.stdin!.write('q\n');
    const exit = await child.exited;
    expect(exit, child.stderr).toEqual({ code: 0, signal: null });
    expect(JSON.parse(readFileSync(resultFile, 'utf8'))).toEqual({ outcome: 'done', calls: ['b', 'c'], runId, resumed: true });
    expect(child.stderr + child.lines.join('\n')).not.toContain('A checkpoint exists');
  });
});
