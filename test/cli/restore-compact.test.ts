import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { files, indexModule, makeCheckpoint, runCli, runScript, tempDir } from './cli-helpers.js';

const reopen = (path: string): Promise<CheckpointManager> => CheckpointManager.open({ path });

describe('checkpoint-resume restore', () => {
  it('puts a backup back, keeping the replaced file and journal as .replaced- copies', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    const backup = readFileSync(`${path}.bak`, 'utf8');
    const current = readFileSync(path, 'utf8');
    const { code, stdout } = await runCli(['restore', path, '--backup', '0']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Restored ${path} from ${path}.bak.`);
    expect(readFileSync(path, 'utf8')).toBe(backup);
    const kept = files(directory).filter((name) => name.startsWith('cp.json.replaced-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(directory, kept[0]!), 'utf8')).toBe(current);
    expect(files(directory).some((name) => name.startsWith('cp.json.journal.replaced-'))).toBe(true);
    const cp = await reopen(path);
    expect(cp.getProgressSummary().steps.enrich).toMatchObject({ completed: 5, failed: 0 });
    expect(cp.steps).toEqual(['enrich']);
    await cp.close();
  });

  it('keeps a damaged file as a .corrupt- copy, and refuses a backup that does not exist', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    writeFileSync(path, '{ torn');
    const missing = await runCli(['restore', path, '--backup', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('there is no backup 7 — the backups are: 0');
    const { code } = await runCli(['restore', path, '--backup', '0']);
    expect(code).toBe(0);
    const kept = files(directory).filter((name) => name.startsWith('cp.json.corrupt-'));
    expect(kept.map((name) => readFileSync(join(directory, name), 'utf8'))).toEqual(['{ torn']);
    expect((await runCli(['validate', path])).code).toBe(0);
  });
});

describe('checkpoint-resume compact', () => {
  it('folds the journal a crashed run left into the snapshot, taking over the dead lock', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    const crash = await runScript(`
      const { CheckpointManager } = await import(${JSON.stringify(indexModule)});
      const cp = await CheckpointManager.open({ path: ${JSON.stringify(path)} });
      for (let i = 0; i < 20; i++) await cp.markItemCompleted('extra', 'item-' + i);
      process.kill(process.pid, 'SIGKILL'); // a crash: no close, no exit hooks — the lock is left behind
    `);
    expect(crash.code).toBe(-1);
    expect(readFileSync(`${path}.journal`, 'utf8').split('\n').length).toBeGreaterThan(20);
    expect(existsSync(`${path}.lock`)).toBe(true);
    const status = await runCli(['status', path]);
    expect(status.stdout).toMatch(/Lock +left by process \d+ on .*, which is no longer running/);
    expect(status.stdout).toContain('20 change(s) not yet compacted');

    const { code, stdout } = await runCli(['compact', path]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Compacted .*cp\.json: [\d.]+ (B|KiB) of journal folded in/);
    expect(readFileSync(`${path}.journal`, 'utf8')).toBe('');
    expect(existsSync(`${path}.lock`)).toBe(false);
    const snapshot = JSON.parse(readFileSync(path, 'utf8')) as { steps: { extra: { completedItems: string[] } } };
    expect(snapshot.steps.extra.completedItems).toHaveLength(20);
    expect((await runCli(['compact', path])).stdout).toContain('is already compact');
  });
});
