import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { files, makeCheckpoint, runCli, tempDir } from './cli-helpers.js';

const ANSI = /\u001b\[/;

describe('checkpoint-resume status', () => {
  it('prints pipeline, run id, per-step counts, stages and counters as a table', async () => {
    const path = join(tempDir(), 'pipeline_checkpoint.json');
    await makeCheckpoint(path);
    // FORCE_COLOR asks for colour, but stdout is a pipe: there is none.
    const { code, stdout, stderr } = await runCli(['status', path], { FORCE_COLOR: '1' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const runId = (JSON.parse(readFileSync(path, 'utf8')) as { metadata: { runId: string } }).metadata.runId;
    expect(stdout).toContain(`Run id      ${runId}`);
    expect(stdout).toContain('Pipeline    demo');
    expect(stdout).toMatch(/Step\s+Status\s+Completed\s+Total\s+%\s+Failed\s+Dead letters\s+Pending\s+In progress\s+Rate\s+ETA/);
    expect(stdout).toMatch(/enrich\s+running\s+5\s+-\s+-\s+2\s+0\s+0\s+1\s+-\s+-/);
    expect(stdout).toMatch(/summarise\s+-\s+1\s+-\s+-\s+0\s+0\s+0\s+0\s+-\s+-/);
    expect(stdout).toContain('Stages    prep');
    expect(stdout).toContain('Counters  cost=1.25');
    expect(stdout).toContain('Lock        free');
    // doc-9 was left in progress by a run that is gone.
    expect(stdout).toContain('No running process holds the lock: items in progress were interrupted');
    expect(stdout).not.toMatch(ANSI);
  });

  it('--json prints a stable object for scripts', async () => {
    const path = join(tempDir(), 'state.yaml');
    await makeCheckpoint(path);
    const { code, stdout } = await runCli(['status', path, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    const counts = (completed: number, failed: number, inProgress: number, status: string | null) => ({
      status, total: null, completed, failed, inProgress, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0, percent: null, ratePerSecond: null, etaMs: null,
    });
    expect(report).toEqual({
      location: path,
      format: 'YAML',
      pipeline: 'demo',
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ageMs: expect.any(Number),
      lock: null,
      loadedFrom: null,
      steps: { enrich: counts(5, 2, 1, 'running'), summarise: counts(1, 0, 0, null) },
      stages: [{ name: 'prep', completedAt: expect.any(String) }],
      counters: { cost: 1.25 },
      errors: { count: 3, latest: { at: expect.any(String), message: 'bad input', name: 'TypeError', step: 'enrich', key: '{"id":7}' } },
      journal: { records: 0, notYetCompacted: 0, tornLines: 0 },
    });
    expect(Object.keys(report)).toEqual(['location', 'format', 'pipeline', 'runId', 'createdAt', 'updatedAt', 'ageMs', 'lock', 'loadedFrom', 'steps', 'stages', 'counters', 'errors', 'journal']);
  });

  it('reads a checkpoint while a live process holds its lock, without writing anything', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    const holder = await CheckpointManager.open({ path });
    try {
      await holder.markItemCompleted('enrich', 'doc-live');
      const before = { listing: files(directory), snapshot: readFileSync(path), journal: readFileSync(`${path}.journal`) };
      const [status, inspect, validate, backups] = await Promise.all([
        runCli(['status', path, '--json']),
        runCli(['inspect', path, '--step', 'enrich', '--json', '--limit', '0']),
        runCli(['validate', path]),
        runCli(['backups', path]),
      ]);
      const report = JSON.parse(status.stdout) as { lock: { pid: number; alive: boolean }; steps: { enrich: { completed: number } }; journal: { notYetCompacted: number } };
      expect(status.code).toBe(0);
      expect(report.lock).toEqual({ pid: process.pid, host: hostname(), since: expect.any(String), alive: true });
      // The journal record not yet compacted is part of what status shows.
      expect(report.steps.enrich.completed).toBe(6);
      expect(report.journal.notYetCompacted).toBeGreaterThan(0);
      expect(inspect.code).toBe(0);
      expect((JSON.parse(inspect.stdout) as { items: { key: string }[] }).items.map((item) => item.key)).toContain('doc-live');
      expect(validate.code).toBe(0);
      expect(backups.code).toBe(0);
      expect(files(directory)).toEqual(before.listing);
      expect(readFileSync(path)).toEqual(before.snapshot);
      expect(readFileSync(`${path}.journal`)).toEqual(before.journal);
    } finally {
      await holder.close();
    }
  });
});

describe('checkpoint-resume inspect', () => {
  it('lists failures first with attempts and last error, filtered by step, --failed and --limit', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const failed = await runCli(['inspect', path, '--failed']);
    expect(failed.code).toBe(0);
    const lines = failed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Step\s+Item\s+Status\s+Attempts\s+Last error$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^enrich\s+doc-5\s+failed\s+2\s+upstream said no$/),
      expect.stringMatching(/^enrich\s+\{"id":7\}\s+failed\s+1\s+TypeError: bad input$/),
    ]);
    const limited = await runCli(['inspect', path, '--step', 'enrich', '--limit', '3']);
    expect(limited.stdout).toContain('… 5 more item(s); use --limit 0 to see all');
    expect(limited.stdout).toMatch(/enrich\s+doc-9\s+in_progress\s+1/);
    expect(limited.stdout).not.toContain('summarise');
    const json = JSON.parse((await runCli(['inspect', path, '--step', 'summarise', '--json'])).stdout) as unknown;
    expect(json).toEqual({ items: [{ step: 'summarise', key: 'doc-0', status: 'completed', attempts: 1, updatedAt: expect.any(String), error: null }], total: 1 });
  });

  it('names the steps when asked for one that does not exist', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const { code, stderr } = await runCli(['inspect', path, '--step', 'nope']);
    expect(code).toBe(1);
    expect(stderr).toContain('step "nope" is not in this checkpoint — its steps are: enrich, summarise');
  });
});
