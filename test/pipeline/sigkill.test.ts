import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/pipeline/run-result.js';
import { filesIn, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

const worker = fileURLToPath(new URL('./children/video-worker.ts', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

/** Runs the worker; with `killAfter`, sends SIGKILL once that many frames are reported done. */
function runWorker(path: string, killAfter?: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const done = stdout.split('\n').filter((line) => line.startsWith('DONE ')).length;
      if (killAfter !== undefined && !killed && done >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines: stdout.split('\n').filter(Boolean), stderr }));
  });
}

const framesDone = (exit: Exit): string[] => exit.lines.filter((line) => line.startsWith('DONE ')).map((line) => line.slice(5));

describe('Pipeline: a process killed with SIGKILL mid-step', () => {
  it('resumes in a new process at the first unfinished frame and completes', async () => {
    const dir = tempDir();
    const path = join(dir, 'video', '.checkpoint.json');

    const first = await runWorker(path, 20);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(first.lines).toContain('RUN download');
    const doneFirst = framesDone(first);
    expect(doneFirst.length).toBeGreaterThanOrEqual(20);
    expect(doneFirst.length).toBeLessThan(60);
    expect(filesIn(join(dir, 'video'))).toContain('.checkpoint.json');

    const second = await runWorker(path);
    expect(second.code, second.stderr).toBe(0);
    expect(second.lines).not.toContain('RUN download');
    const todo = Number(second.lines.find((line) => line.startsWith('TODO '))!.slice(5));
    // Every acknowledged frame survived the kill; at most the one frame being marked when the
    // kill landed was saved without being reported.
    expect(todo).toBeLessThanOrEqual(60 - doneFirst.length);
    expect(todo).toBeGreaterThanOrEqual(60 - doneFirst.length - 1);
    const doneSecond = framesDone(second);
    expect(doneSecond).toHaveLength(todo);
    expect(doneSecond.filter((frame) => doneFirst.includes(frame))).toEqual([]);
    expect(doneSecond.at(-1)).toBe('frame-59');

    const result = JSON.parse(second.lines.find((line) => line.startsWith('RESULT '))!.slice(7)) as RunResult<{ extracted: number; model: string }>;
    expect(result.resumedFromCheckpoint).toBe(true);
    expect(result.skippedSteps).toEqual(['download']);
    expect(result.completedSteps).toEqual(['extract', 'train']);
    expect(result.context).toMatchObject({ video: 'match.mp4', frames: 60, extracted: 60, model: 'trained on 60 frames' });
    expect(result.steps.extract).toMatchObject({ status: 'completed', attempts: 2 });
    expect(filesIn(join(dir, 'video'))).toEqual([]);
  });
});
