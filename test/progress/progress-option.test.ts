import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, MemoryStore, Pipeline, type StepDefinition } from '../../src/index.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'children', 'progress-child.ts');

function runChild(env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const quiet = { warn: () => {}, error: () => {} };

const plain = (text: string): string => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

describe('progress: true', () => {
  it('draws a bar per forEach and per pipeline step on a terminal, ending each on its own line', async () => {
    const run = await runChild({ CI: undefined, TERM: 'xterm' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('forEach: 19 completed, 1 failed');
    expect(run.stdout).toContain('pipeline: download, convert');
    // Each bar's last state is the line left behind when it stops.
    const finished = plain(run.stderr).split('\n').map((line) => line.split('\r').at(-1) ?? line);
    const last = (step: string): string | undefined => finished.filter((line) => line.includes(step)).at(-1);
    expect(last('items')).toMatch(/20\/20 100% \| .*\/s \| 1 failed$/);
    expect(last('download')).toMatch(/5\/5 100%/);
    expect(last('convert')).toMatch(/8\/8 100%/);
  });

  it('draws nothing in CI', async () => {
    const run = await runChild({ CI: 'true' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('pipeline: download, convert');
    expect(run.stderr).toBe('');
  });

  it('is checked like every option', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    // @ts-expect-error: not a boolean
    await expect(cp.step('s').forEach([1], () => {}, { progress: 'yes' })).rejects.toThrow(CheckpointArgumentError);
    await expect(cp.step('s').forEach([1], () => {}, { progress: 'yes' } as never)).rejects.toThrow('Expected `progress` to be a boolean, got `"yes"` (string)');
    class One extends Pipeline<{ n?: number }> {
      readonly name = 'one';
      steps(): StepDefinition<{ n?: number }>[] {
        return [{ name: 'only', run: () => ({ n: 1 }) }];
      }
    }
    // @ts-expect-error: not a boolean
    await expect(new One({ store: new MemoryStore(), logger: quiet }).run({}, { progress: 1 })).rejects.toThrow('Expected `progress` to be a boolean');
    await cp.close();
  });

  it('lets a step override what the run gives its forEach calls', async () => {
    const seen: number[] = [];
    class Reporting extends Pipeline<Record<string, never>> {
      readonly name = 'reporting';
      steps(): StepDefinition<Record<string, never>>[] {
        return [{ name: 'items', run: async (_ctx, step) => void (await step.forEach([1, 2, 3], () => {}, { onProgress: (p) => seen.push(p.done), progressIntervalMs: 0 })) }];
      }
    }
    const result = await new Reporting({ store: new MemoryStore(), logger: quiet }).run({}, { progress: true });
    expect(result.completedSteps).toEqual(['items']);
    expect(seen.at(-1)).toBe(3);
  });
});
