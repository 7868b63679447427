import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { files, makeCheckpoint, runCli, tempDir } from './cli-helpers.js';

const ANSI = /\u001b\[/;

describe('checkpointer status', () => {
  it('prints pipeline, run id, per-step counts, stages and counters as a table', async () => {
    const path = join(tempDir(), 'pipeline_checkpoint.json');
    await makeCheckpoint(path);
    const { code, stdout, stderr } = await runCli(['status', path]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const runId = (JSON.parse(readFileSync(path, 'utf8')) as { metadata: { runId: string } }).metadata.runId;
    expect(stdout).toContain(`Run id      ${runId}`);
    expect(stdout).toContain('Pipeline    demo');
    expect(stdout).toMatch(/Step\s+Status\s+Completed\s+Failed\s+In progress\s+Interrupted\s+Dead letter/);
    expect(stdout).toMatch(/enrich\s+running\s+5\s+2\s+1\s+0\s+0/);
    expect(stdout).toMatch(/summarise\s+-\s+1\s+0\s+0\s+0\s+0/);
    expect(stdout).toContain('Stages    prep');
    expect(stdout).toContain('Counters  cost=1.25');
    expect(stdout).toContain('Lock        free');
    // doc-9 was left in progress by a run that is gone.
    expect(stdout).toContain('No process holds the lock: items in progress were interrupted');
    expect(stdout).not.toMatch(ANSI);
  });

  it('--json prints a stable object for scripts', async () => {
    const path = join(tempDir(), 'state.yaml');
    await makeCheckpoint(path);
    const { code, stdout } = await runCli(['status', path, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    const counts = (completed: number, failed: number, inProgress: number, status: string | null) => ({ status, completed, failed, inProgress, interrupted: 0, deadLetter: 0 });
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
      const report = JSON.parse(status.stdout) as { lock: { pid: number }; steps: { enrich: { completed: number } }; journal: { notYetCompacted: number } };
      expect(status.code).toBe(0);
      expect(report.lock.pid).toBe(process.pid);
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

describe('checkpointer inspect', () => {
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

describe('checkpointer validate', () => {
  it('exits 0 for a good checkpoint', async () => {
    const path = join(tempDir(), 'cp.yml');
    await makeCheckpoint(path);
    const { code, stdout } = await runCli(['validate', path]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^valid: .*cp\.yml — 2 step\(s\), 9 item\(s\), 1 stage\(s\)/);
  });

  it('exits 1 for a damaged snapshot, naming the file and the place, and points at the good backup', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const document = JSON.parse(readFileSync(path, 'utf8')) as { steps: { enrich: { completedItems: unknown[] } } };
    document.steps.enrich.completedItems[1] = 42;
    writeFileSync(path, JSON.stringify(document));
    const { code, stdout, stderr } = await runCli(['validate', path, '--json']);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout) as { valid: boolean; problems: unknown[]; goodBackups: { index: number }[] };
    expect(report.valid).toBe(false);
    expect(report.problems).toEqual([{ file: path, where: 'steps.enrich.completedItems[1]', message: expect.stringContaining('expected string') }]);
    expect(report.goodBackups.map((backup) => backup.index)).toEqual([0, 1]);
    const text = await runCli(['validate', path]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`INVALID: ${path}`);
    expect(text.stdout).toContain(`${path}: steps.enrich.completedItems[1]: expected string`);
    expect(text.stdout).toContain(`checkpointer restore ${path} --backup 0`);
  });

  it('exits 1 for a journal damaged in place, naming the line', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    const holder = await CheckpointManager.open({ path });
    await holder.markItemCompleted('enrich', 'a');
    await holder.markItemCompleted('enrich', 'b');
    const journal = readFileSync(`${path}.journal`, 'utf8');
    await holder.close();
    // Put back a journal whose first record was changed after it was written.
    writeFileSync(`${path}.journal`, journal.replace('"a"', '"x"'));
    const { code, stdout } = await runCli(['validate', path]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${path}.journal: line 1: damaged record (checksum mismatch) followed by valid records`);
  });

  it('exits 1 when there is no checkpoint', async () => {
    const path = join(tempDir(), 'missing.json');
    const { code, stdout } = await runCli(['validate', path]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${path}: no checkpoint here`);
  });
});

describe('checkpointer on a damaged or missing checkpoint', () => {
  it('status shows the backup it fell back to, or a one-line error without a stack trace', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    writeFileSync(path, '{"version": 1, "metadata": ');
    const bare = join(directory, 'bare.json');
    writeFileSync(bare, 'not json at all');
    const listing = files(directory);
    const fallback = await runCli(['status', path]);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toContain(`showing its backup ${path}.bak`);

    const broken = await runCli(['status', bare]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^error: ${bare}: not valid JSON: .* — restore a backup`));
    expect(broken.stderr).not.toMatch(/\n\s+at /);
    expect(broken.stderr.trim().split('\n')).toHaveLength(1);

    const missing = await runCli(['status', join(directory, 'nothing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no checkpoint here');
    // Nothing was repaired, moved or created: read-only commands leave the files to the person.
    expect(files(directory)).toEqual(listing);
  });
});

describe('checkpointer backups', () => {
  it('lists the file and its backups with time, size and item counts', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const { code, stdout } = await runCli(['backups', path, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { current: unknown; backups: unknown[] };
    const entry = (index: number | null, file: string, completed: number, failed: number) => ({
      index, path: file, savedAt: expect.any(String), bytes: expect.any(Number), valid: true, problem: null,
      items: { completed, failed, other: failed ? 1 : 0 }, stages: 1,
    });
    // Each close compacts; the first snapshot (saved on creation) is the oldest backup.
    expect(report).toEqual({
      location: path,
      current: entry(null, path, 6, 2),
      backups: [entry(0, `${path}.bak`, 5, 0), { ...entry(1, `${path}.bak.1`, 0, 0), stages: 0 }],
    });
    const text = await runCli(['backups', path]);
    expect(text.stdout).toMatch(/^\s+N\s+File\s+Saved\s+Size\s+Completed\s+Failed\s+Check$/m);
    expect(text.stdout).toMatch(new RegExp(`^\\s+0\\s+${path.replace(/[.]/g, '\\.')}\\.bak\\s+.+ago\\)\\s+[\\d.]+ (B|KiB)\\s+5\\s+0\\s+valid$`, 'm'));
  });
});

describe('checkpointer usage', () => {
  it('exits 2 for usage errors and 0 for --help, as a real process', async () => {
    const path = join(tempDir(), 'cp.json');
    const [none, bogus, help] = await Promise.all([runCli([]), runCli(['status', path, '--bogus']), runCli(['status', '--help'])]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: checkpointer');
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: checkpointer status [options] <file>');
    expect(help.stdout).toContain('Exit codes:');
  });

  it('never colours output that goes to a pipe, even with FORCE_COLOR', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const forced = await runCli(['status', path], { FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).not.toMatch(ANSI);
  });
});
