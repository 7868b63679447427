import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { files, makeCheckpoint, runCli, tempDir } from './cli-helpers.js';

describe('checkpoint-resume validate', () => {
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
    expect(report.problems).toEqual([{ file: path, where: 'steps.enrich.completedItems[1]', message: expect.stringContaining('expected string'), code: 'CHECKPOINT_CORRUPT' }]);
    expect(report.goodBackups.map((backup) => backup.index)).toEqual([0]);
    const text = await runCli(['validate', path]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`INVALID: ${path}`);
    expect(text.stdout).toContain(`${path}: steps.enrich.completedItems[1]: expected string`);
    expect(text.stdout).toContain(`checkpoint-resume restore ${path} --backup 0`);
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
    expect(stdout).toContain(`${path}.journal: line 1: damaged record (checksum mismatch)`);
  });

  it('exits 1 when there is no checkpoint', async () => {
    const path = join(tempDir(), 'missing.json');
    const { code, stdout } = await runCli(['validate', path]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${path}: no checkpoint here`);
  });
});

describe('checkpoint-resume validate on a newer format', () => {
  it('exits 1 and says to upgrade, not to restore', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const document = JSON.parse(readFileSync(path, 'utf8')) as { version: number };
    writeFileSync(path, JSON.stringify({ ...document, version: 99 }));
    const { code, stdout } = await runCli(['validate', path]);
    expect(code).toBe(1);
    expect(stdout).toContain('format version 99 is newer than this checkpointer supports (1) — upgrade checkpointer to read it');
    expect(stdout).not.toContain('restore');
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

describe('checkpoint-resume backups', () => {
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
    // Each close compacts; the first snapshot (saved on creation, with no progress) is not kept as a backup.
    expect(report).toEqual({
      location: path,
      current: entry(null, path, 6, 2),
      backups: [entry(0, `${path}.bak`, 5, 0)],
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
    expect(none.stderr).toContain('Usage: checkpoint-resume');
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: checkpoint-resume status [options] <checkpoint>');
    expect(help.stdout).toContain('Exit codes:');
  });

});
