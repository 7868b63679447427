import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DirectoryListReport } from '../../src/cli/directory-list.js';
import type { StatusReport } from '../../src/cli/status-command.js';
import { CheckpointManager } from '../../src/index.js';
import { makeCheckpoint, runCli, tempDir } from './cli-helpers.js';

async function list(directory: string, ...flags: string[]): Promise<DirectoryListReport> {
  const run = await runCli(['list', directory, '--json', ...flags]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as DirectoryListReport;
}

/** A checkpoint file as a person would write it: the document without the library's checksum line. */
function handWritten(from: string, to: string, extraItems = 0): void {
  const { checksum: _checksum, ...document } = JSON.parse(readFileSync(from, 'utf8')) as { checksum: string; steps: { enrich: { completedItems: string[] } } };
  for (let i = 0; i < extraItems; i++) document.steps.enrich.completedItems.push(`extra-item-with-a-long-key-${i}`);
  writeFileSync(to, JSON.stringify(document, null, 2));
}

describe('checkpoint-resume list <dir>', () => {
  it('finds JSON and YAML checkpoints in subdirectories by content, each once, and nothing else', async () => {
    const root = tempDir();
    for (const sub of ['runs/a', 'runs/b/deep', 'node_modules/pkg', '.git', 'plain']) mkdirSync(join(root, sub), { recursive: true });
    await makeCheckpoint(join(root, 'runs/a/cp.json'));
    await makeCheckpoint(join(root, 'runs/b/deep/state.yaml'));
    await makeCheckpoint(join(root, 'runs/b/other.yml'));
    // Checkpoints where nobody keeps a job's state: not searched.
    await makeCheckpoint(join(root, 'node_modules/pkg/cp.json'));
    await makeCheckpoint(join(root, '.git/cp.json'));
    // A hand-written checkpoint (no checksum line, nothing beside it) is one by its content.
    handWritten(join(root, 'runs/a/cp.json'), join(root, 'plain/by-hand.json'));
    // JSON and YAML that are not checkpoints, also ones that look a little like one.
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'job', version: '1.0.0', metadata: { author: 'me' } }));
    // A person's backup of a file beside it, and one left alone: not checkpoints either.
    writeFileSync(join(root, 'package.json.bak'), JSON.stringify({ name: 'job', version: '0.9.0' }));
    writeFileSync(join(root, 'runs/a/settings.json.bak'), 'old settings');
    writeFileSync(join(root, 'runs/a/data.json'), JSON.stringify([{ id: 1 }, { id: 2 }]));
    writeFileSync(join(root, 'runs/a/config.yaml'), 'version: 2\nmetadata:\n  owner: me\n');
    writeFileSync(join(root, 'runs/a/broken-data.json'), '{"not": json');
    writeFileSync(join(root, 'runs/a/notes.txt'), 'cp.json is mine');
    // Symbolic links back up the tree: a loop, searched once.
    symlinkSync('..', join(root, 'runs/b/deep/up'));
    symlinkSync(join(root, 'runs'), join(root, 'plain/runs-again'));

    const report = await list(root);
    expect(report.location).toBe(root);
    expect(report.checkpoints.map((checkpoint) => checkpoint.path)).toEqual(
      ['plain/by-hand.json', 'runs/a/cp.json', 'runs/b/deep/state.yaml', 'runs/b/other.yml'].map((path) => join(root, path)),
    );
    expect(report.checkpoints.map((checkpoint) => checkpoint.format)).toEqual(['JSON', 'JSON', 'YAML', 'YAML']);
    expect(report.checkpoints.every((checkpoint) => checkpoint.damaged === null && checkpoint.pipeline === 'demo')).toBe(true);
  });

  it('shows the counts status shows, summed over the steps, with a place for the total', async () => {
    const root = tempDir();
    const path = join(root, 'cp.json');
    await makeCheckpoint(path);
    const [report, status] = await Promise.all([list(root), runCli(['status', path, '--json'])]);
    const steps = Object.values((JSON.parse(status.stdout) as StatusReport).steps);
    const sum = (pick: (step: (typeof steps)[number]) => number): number => steps.reduce((total, step) => total + pick(step), 0);
    const [checkpoint] = report.checkpoints;
    expect(checkpoint).toMatchObject({
      path,
      pipeline: 'demo',
      items: {
        completed: sum((step) => step.completed),
        failed: sum((step) => step.failed),
        deadLetter: sum((step) => step.deadLetter),
        inProgress: sum((step) => step.inProgress),
        pending: sum((step) => step.interrupted),
      },
      total: null,
      percent: null,
      lock: null,
      running: false,
      loadedFrom: null,
    });
    expect(checkpoint!.items).toEqual({ completed: 6, failed: 2, deadLetter: 0, inProgress: 1, pending: 0 });
    expect(Date.parse(checkpoint!.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(checkpoint!.createdAt!));
  });

  it('prints one line per checkpoint with its progress, last update (ago) and lock', async () => {
    const root = tempDir();
    await makeCheckpoint(join(root, 'done.json'));
    const running = join(root, 'running.yaml');
    const holder = await CheckpointManager.open({ path: running, pipeline: 'live' });
    try {
      await holder.markItemCompleted('fetch', 'a');
      const { code, stdout } = await runCli(['list', root]);
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`Checkpoints under ${root}:`);
      expect(lines[1]).toMatch(/^Checkpoint\s+Pipeline\s+Completed\s+Failed\s+Unfinished\s+Total\s+Updated\s+Lock\s+Check$/);
      expect(lines[2]).toMatch(new RegExp(`^${join(root, 'done.json')}\\s+demo\\s+6\\s+2\\s+1\\s+-\\s+\\S+Z \\(\\d+s ago\\)\\s+free\\s+ok$`));
      expect(lines[3]).toMatch(new RegExp(`^${running}\\s+live\\s+1\\s+0\\s+0\\s+-\\s+\\S+Z \\(\\d+s ago\\)\\s+held by process ${process.pid} on ${hostname()}\\s+ok$`));
      expect(lines[4]).toBe('Look at one with: checkpoint-resume status <file>');
      const report = await list(root);
      expect(report.checkpoints[1]).toMatchObject({ path: running, running: true, lock: { pid: process.pid, host: hostname(), alive: true } });
    } finally {
      await holder.close();
    }
    expect((await list(root)).checkpoints[1]).toMatchObject({ running: false, lock: null });
  });

  it('lists a damaged checkpoint as damaged, and one whose snapshot is gone, without failing the listing', async () => {
    const root = tempDir();
    const fallsBack = join(root, 'falls-back.json');
    await makeCheckpoint(fallsBack);
    writeFileSync(fallsBack, '{"version": 1, "metadata": '); // Cut short; its backups are good.
    const lost = join(root, 'lost.json');
    await makeCheckpoint(lost);
    for (const file of [lost, `${lost}.bak`, `${lost}.bak.1`]) writeFileSync(file, 'garbage');
    const gone = join(root, 'gone.yaml');
    await makeCheckpoint(gone);
    rmSync(gone); // Only its journal and backups are left.
    await makeCheckpoint(join(root, 'fine.json'));

    const report = await list(root);
    const byName = Object.fromEntries(report.checkpoints.map((checkpoint) => [checkpoint.path.slice(root.length + 1), checkpoint]));
    expect(Object.keys(byName)).toEqual(['falls-back.json', 'fine.json', 'gone.yaml', 'lost.json']);
    expect(byName['falls-back.json']).toMatchObject({ loadedFrom: `${fallsBack}.bak`, pipeline: 'demo', damaged: expect.stringContaining('not valid JSON') });
    expect(byName['gone.yaml']).toMatchObject({ loadedFrom: `${gone}.bak`, damaged: 'missing, but its backups are still there' });
    expect(byName['lost.json']).toMatchObject({ items: null, pipeline: null, updatedAt: null, loadedFrom: null, damaged: expect.stringContaining('not valid JSON') });
    expect(byName['fine.json']).toMatchObject({ damaged: null });
    const text = await runCli(['list', root]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`damaged, showing ${fallsBack}.bak`);
    expect(text.stdout).toMatch(new RegExp(`${lost}\\s+-\\s+.*damaged: not valid JSON`));
  });

  it('finds a big hand-written checkpoint by its first lines, and passes over big JSON that is not one', async () => {
    const root = tempDir();
    const made = join(tempDir(), 'cp.json');
    await makeCheckpoint(made);
    handWritten(made, join(root, 'big.json'), 40_000);
    writeFileSync(join(root, 'big-data.json'), JSON.stringify({ version: 3, rows: Array.from({ length: 40_000 }, (_, i) => `row-with-some-text-${i}`) }));
    const report = await list(root);
    expect(report.checkpoints.map((checkpoint) => [checkpoint.path, checkpoint.items?.completed])).toEqual([[join(root, 'big.json'), 40_006]]);
  });

  it('--pipeline keeps one pipeline; an empty directory says so; a missing one is exit 1', async () => {
    const root = tempDir();
    await makeCheckpoint(join(root, 'a.json'));
    const other = await CheckpointManager.open({ path: join(root, 'b.json'), pipeline: 'other' });
    await other.close();
    expect((await list(root, '--pipeline', 'other')).checkpoints.map((checkpoint) => checkpoint.path)).toEqual([join(root, 'b.json')]);
    const empty = tempDir();
    writeFileSync(join(empty, 'package.json'), '{"name": "x"}');
    expect(await runCli(['list', empty])).toEqual({ code: 0, stdout: `No checkpoints under ${empty}.\n`, stderr: '' });
    expect(await list(empty)).toEqual({ location: empty, checkpoints: [] });
    const missing = join(root, 'nope');
    expect(await runCli(['list', missing])).toEqual({ code: 1, stdout: '', stderr: `error: list: ${missing}: no such directory — give the directory that holds the checkpoints\n` });
  });
});
