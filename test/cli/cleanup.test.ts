import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, renameSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CleanupReport } from '../../src/cli/cleanup-command.js';
import { CheckpointManager } from '../../src/index.js';
import { files, indexModule, runCli, runScript, tempDir } from './cli-helpers.js';

/** Every entry under `root` with what it holds (a directory's is '<dir>'), to compare before and after. */
function tree(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const name of (readdirSync(root, { recursive: true }) as string[]).sort()) {
    const path = join(root, name);
    const info = lstatSync(path);
    entries[name] = info.isDirectory() ? '<dir>' : info.isSymbolicLink() ? `-> ${readlinkSync(path)}` : readFileSync(path, 'base64');
  }
  return entries;
}

/** A checkpoint run `runs` times (each run completes one item and closes, keeping a backup); `failing` leaves a failed item. */
async function runJob(path: string, runs: number, options: { backups?: number; failing?: boolean } = {}): Promise<void> {
  for (let run = 0; run < runs; run++) {
    const cp = await CheckpointManager.open({ path, pipeline: 'job', ...(options.backups === undefined ? {} : { backups: options.backups }) });
    await cp.markItemCompleted('work', `item-${run}`);
    if (options.failing && run === runs - 1) await cp.markItemFailed('work', 'bad-item', new Error('refused'));
    await cp.close();
  }
}

const STAMP = '2026-01-02T03-04-05-678Z';
/** Files the library moves aside for a person to look at: cleanup leaves them to that person. */
const movedAside = (name: string): string[] => [
  `${name}.corrupt-${STAMP}`,
  `${name}.replaced-${STAMP}`,
  `${name}.journal.replaced-${STAMP}`,
  `${name}.bak.corrupt-${STAMP}`,
];
/** Names only the library makes beside checkpoint `name`, besides its backups. */
const checkpointLeftovers = (name: string): string[] => [
  ...movedAside(name),
  `${name}.checkpointer-next`,
  `${name}.checkpointer-next.4021`,
  `${name}.journal.checkpointer-next`,
  `${name}.journal.sealed-1`,
];
/** A person's files that look like the library's, beside checkpoint `name`: never removed. */
const userFiles = (name: string): string[] => [
  `${name}.1`,
  `${name}.20240101`,
  `${name}.bak.9`, // after a gap in the run of backups: not one of ours
  `${name}.bak.01`,
  `${name}.bak.old`,
  `${name}.corrupt-yesterday`,
  `${name}.replaced-2026-01-02`,
  `${name}.checkpointer-next.tmp`,
  `${name}.journal.sealed-x`,
  `${name}.journal.old`,
  'notes.txt',
  'data.json',
];

function addFiles(directory: string, names: string[]): void {
  // A sealed journal of ours holds records; an empty one holds none the snapshot lacks.
  for (const name of names) writeFileSync(join(directory, name), /\.journal\.sealed-\d+$/.test(name) ? '' : `${name} — keep me? `);
}

async function cleanup(root: string, ...flags: string[]): Promise<CleanupReport> {
  const run = await runCli(['cleanup', root, '--json', ...flags]);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as CleanupReport;
}

/**
 * Four checkpoints, oldest first: `old-finished/cp.json` (every item done, 3 backups, the
 * library's leftovers and a lock left by a process that is gone), `old-unfinished/cp.yaml` (a
 * failed item, 6 backups), then two newer finished ones with leftovers that must stay. A person's
 * look-alike files sit beside each.
 */
async function fourCheckpoints(): Promise<string> {
  const root = tempDir();
  const at = (directory: string): string => {
    mkdirSync(join(root, directory), { recursive: true });
    return join(root, directory);
  };
  await runJob(join(at('old-finished'), 'cp.json'), 4);
  await runJob(join(at('old-unfinished'), 'cp.yaml'), 7, { backups: 6, failing: true });
  await runJob(join(at('new-b'), 'cp.json'), 4);
  await runJob(join(at('new-a'), 'cp.json'), 4);
  for (const [directory, name] of [['old-finished', 'cp.json'], ['old-unfinished', 'cp.yaml'], ['new-b', 'cp.json'], ['new-a', 'cp.json']] as const) {
    addFiles(join(root, directory), [...checkpointLeftovers(name), ...userFiles(name)]);
  }
  // A lock left by a process that has exited.
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  mkdirSync(join(root, 'old-finished', 'cp.json.lock'));
  writeFileSync(join(root, 'old-finished', 'cp.json.lock', 'owner.json'), JSON.stringify({ pid: gone, host: hostname(), since: new Date().toISOString(), token: 'gone' }));
  return root;
}

describe('checkpoint-resume cleanup <dir> --keep N', () => {
  it('removes old finished checkpoints\' leftovers and old unfinished ones\' surplus backups, and nothing else', async () => {
    const root = await fourCheckpoints();
    const before = tree(root);
    const report = await cleanup(root, '--keep', '2');

    const finished = join(root, 'old-finished');
    const unfinished = join(root, 'old-unfinished');
    expect(report.checkpoints.map(({ path, decision, reason }) => ({ path, decision, reason }))).toEqual([
      { path: join(root, 'new-a/cp.json'), decision: 'kept', reason: null },
      { path: join(root, 'new-b/cp.json'), decision: 'kept', reason: null },
      { path: join(finished, 'cp.json'), decision: 'finished', reason: null },
      { path: join(unfinished, 'cp.yaml'), decision: 'unfinished', reason: null },
    ]);
    expect(report.checkpoints[2]!.removed.map((file) => file.slice(finished.length + 1)).sort()).toEqual(
      ['cp.json.lock', 'cp.json.bak', 'cp.json.bak.1', 'cp.json.bak.2', ...checkpointLeftovers('cp.json').filter((name) => !movedAside('cp.json').includes(name))].sort(),
    );
    // An unfinished checkpoint keeps the newest 3 backups (the default number), its journals and what was moved aside.
    expect(report.checkpoints[3]!.removed.map((file) => file.slice(unfinished.length + 1)).sort()).toEqual(
      ['cp.yaml.bak.3', 'cp.yaml.bak.4', 'cp.yaml.bak.5', 'cp.yaml.checkpointer-next', 'cp.yaml.checkpointer-next.4021', 'cp.yaml.journal.checkpointer-next'].sort(),
    );
    expect(report.removed).toBe(report.checkpoints[2]!.removed.length + report.checkpoints[3]!.removed.length);
    expect(report).toMatchObject({ location: root, keep: 2, dryRun: false });

    // What is left is exactly what was there minus what the report names.
    const removed = new Set(report.checkpoints.flatMap((checkpoint) => checkpoint.removed).map((file) => file.slice(root.length + 1)));
    const expected = Object.fromEntries(Object.entries(before).filter(([name]) => !removed.has(name) && !name.startsWith('old-finished/cp.json.lock/')));
    expect(tree(root)).toEqual(expected);
    for (const file of movedAside('cp.json')) expect(existsSync(join(finished, file))).toBe(true);
    // Every file of a person's survived, everywhere, and so did the kept checkpoints' leftovers.
    for (const directory of ['old-finished', 'old-unfinished', 'new-a', 'new-b']) {
      const name = directory === 'old-unfinished' ? 'cp.yaml' : 'cp.json';
      for (const file of userFiles(name)) expect(readFileSync(join(root, directory, file), 'utf8')).toBe(`${file} — keep me? `);
    }
    for (const directory of ['new-a', 'new-b']) {
      expect(files(join(root, directory))).toEqual(Object.keys(before).filter((name) => name.startsWith(`${directory}/`)).map((name) => name.slice(directory.length + 1)).sort());
    }

    // The checkpoints themselves are whole: a finished one still says it is done, the unfinished one resumes.
    const status = await runCli(['status', join(finished, 'cp.json'), '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ steps: { work: { completed: 4, failed: 0 } }, lock: null, loadedFrom: null });
    const resumed = await CheckpointManager.open({ path: join(unfinished, 'cp.yaml'), pipeline: 'job' });
    expect(resumed.getProgressSummary().steps.work).toMatchObject({ completed: 7, failed: 1 });
    await resumed.close();

    // A second cleanup finds nothing more to remove.
    const again = await cleanup(root, '--keep', '2');
    expect(again.removed).toBe(0);
  });

  it('--dry-run changes nothing and names exactly what the real run then removes', async () => {
    const root = await fourCheckpoints();
    const before = tree(root);
    const dry = await cleanup(root, '--keep', '2', '--dry-run');
    expect(tree(root)).toEqual(before);
    expect(dry.dryRun).toBe(true);
    expect(dry.removed).toBeGreaterThan(10);
    const text = await runCli(['cleanup', root, '--keep', '2', '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Would clean up ${root}, keeping the newest 2 checkpoint(s) untouched:`);
    expect(text.stdout).toMatch(new RegExp(`${join(root, 'old-finished/cp.json')}, updated \\S+Z \\(\\d+s ago\\): finished, would remove ${dry.checkpoints[2]!.removed.length} file\\(s\\)`));
    expect(text.stdout).toContain(`    ${join(root, 'old-finished/cp.json.bak.1')}\n`);
    expect(text.stdout).toMatch(/Would remove \d+ file\(s\), [\d.]+ (B|KiB)\. Nothing was changed \(--dry-run\)\.\n$/);
    expect(tree(root)).toEqual(before);

    const real = await cleanup(root, '--keep', '2');
    expect(real.checkpoints.map((checkpoint) => [checkpoint.decision, [...checkpoint.removed].sort()])).toEqual(dry.checkpoints.map((checkpoint) => [checkpoint.decision, [...checkpoint.removed].sort()]));
    expect(real.bytes).toBe(dry.bytes);
  });

  it('skips a checkpoint a live run holds, and a damaged one, touching none of their files', async () => {
    const root = tempDir();
    const held = join(root, 'held.json');
    const damaged = join(root, 'damaged.json');
    await runJob(held, 4);
    await runJob(damaged, 4);
    writeFileSync(damaged, '{"version": 1, "metadata": ');
    addFiles(root, [...checkpointLeftovers('held.json'), ...checkpointLeftovers('damaged.json')]);
    const holder = await CheckpointManager.open({ path: held, pipeline: 'job' });
    await runJob(join(root, 'newest.json'), 1);
    try {
      const before = tree(root);
      const report = await cleanup(root, '--keep', '1');
      expect(report.checkpoints.map(({ path, decision, removed }) => ({ path, decision, removed }))).toEqual([
        { path: damaged, decision: 'skipped', removed: [] },
        { path: held, decision: 'skipped', removed: [] },
        { path: join(root, 'newest.json'), decision: 'kept', removed: [] },
      ]);
      expect(report.checkpoints[0]!.reason).toMatch(/^damaged \(not valid JSON: .+\): never cleaned — see "checkpoint-resume validate .+damaged\.json"$/);
      expect(report.checkpoints[1]!.reason).toBe(`held by process ${process.pid} on ${hostname()}: a run is using it`);
      expect(tree(root)).toEqual(before);
      const text = await runCli(['cleanup', root, '--keep', '1']);
      expect(text.stdout).toContain(`  ${held}, updated `);
      expect(text.stdout).toContain(`: skipped: held by process ${process.pid} on ${hostname()}: a run is using it\n`);
      // The holder still owns its checkpoint and can write.
      await holder.markItemCompleted('work', 'after');
    } finally {
      await holder.close();
    }
    // Once the run is over, the same cleanup removes its leftovers.
    const after = await cleanup(root, '--keep', '0');
    expect(after.checkpoints[1]).toMatchObject({ path: held, decision: 'finished' });
    expect(after.checkpoints[1]!.removed).toContain(`${held}.bak`);
  });

  it('after a crash: takes over the dead run\'s lock, and keeps a sealed journal holding changes the snapshot lacks', async () => {
    const root = tempDir();
    const path = join(root, 'cp.json');
    await runJob(path, 3);
    const crash = await runScript(`
      const { CheckpointManager } = await import(${JSON.stringify(indexModule)});
      const cp = await CheckpointManager.open({ path: ${JSON.stringify(path)}, pipeline: 'job' });
      for (let i = 0; i < 20; i++) await cp.markItemCompleted('extra', 'item-' + i);
      process.kill(process.pid, 'SIGKILL'); // no close: the lock and the journal are left behind
    `);
    expect(crash.code).toBe(-1);
    // As a compaction cut short after sealing the journal leaves it. (runJob closed three times; the
    // first, empty snapshot was never kept as a backup.)
    renameSync(`${path}.journal`, `${path}.journal.sealed-1`);
    const report = await cleanup(root, '--keep', '0');
    expect(report.checkpoints[0]).toMatchObject({ path, decision: 'finished', reason: null });
    expect([...report.checkpoints[0]!.removed].sort()).toEqual([`${path}.bak`, `${path}.bak.1`, `${path}.lock`]);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(files(root)).toEqual(['cp.json', 'cp.json.journal.sealed-1']);
    const status = JSON.parse((await runCli(['status', path, '--json'])).stdout) as { steps: Record<string, { completed: number }> };
    expect(status.steps).toMatchObject({ work: { completed: 3 }, extra: { completed: 20 } });
  });

  it('a person\'s file named like a backup beside a hand-written checkpoint is not ours, and stays', async () => {
    const root = tempDir();
    const path = join(root, 'handmade.json');
    const document = { version: 1, metadata: { runId: 'r', pipeline: 'p', createdAt: '2020-01-01T00:00:00.000Z', updatedAt: '2020-01-01T00:00:00.000Z' }, steps: {}, stages: [], context: {}, counters: {}, errors: [] };
    writeFileSync(path, JSON.stringify(document));
    writeFileSync(`${path}.bak`, 'my handmade bak');
    writeFileSync(`${path}.bak.1`, JSON.stringify(document)); // a checkpoint, but not written by the library
    writeFileSync(`${path}.journal.sealed-3`, 'my notes');
    const report = await cleanup(root, '--keep', '0');
    expect(report.checkpoints[0]).toMatchObject({ path, decision: 'finished', removed: [] });
    expect(files(root)).toEqual(['handmade.json', 'handmade.json.bak', 'handmade.json.bak.1', 'handmade.json.journal.sealed-3']);
  });

  it('a checkpoint with items left below its total, or handed back by retry-failed, is unfinished', async () => {
    const root = tempDir();
    const belowTotal = join(root, 'below-total', 'cp.json');
    const handedBack = join(root, 'handed-back', 'cp.json');
    await runJob(belowTotal, 2);
    const cp = await CheckpointManager.open({ path: belowTotal, pipeline: 'job' });
    await cp.step('later').setTotal(3); // nothing of it done yet
    await cp.close();
    await runJob(handedBack, 2, { failing: true });
    expect((await runCli(['retry-failed', handedBack])).code).toBe(0);
    const report = await cleanup(root, '--keep', '0', '--dry-run');
    expect(report.checkpoints.map(({ path, decision }) => ({ path, decision }))).toEqual([
      { path: belowTotal, decision: 'unfinished' },
      { path: handedBack, decision: 'unfinished' },
    ]);
    const listed = JSON.parse((await runCli(['list', root, '--json'])).stdout) as { checkpoints: { path: string; items: { pending: number } }[] };
    expect(listed.checkpoints.map((checkpoint) => checkpoint.items.pending)).toEqual([3, 1]);
  });

  it('a lock directory nobody finished taking (a locker killed before it wrote its owner) is no run: status says so, cleanup takes it over', async () => {
    const root = tempDir();
    const path = join(root, 'cp.json');
    await runJob(path, 2);
    mkdirSync(`${path}.lock`);
    // The lock judges an ownerless directory abandoned once it is 2 s old (what open() takes over).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const status = JSON.parse((await runCli(['status', path, '--json'])).stdout) as { lock: { pid: number | null; alive: boolean | null } };
    expect(status.lock).toMatchObject({ pid: null, alive: false });
    const listed = JSON.parse((await runCli(['list', root, '--json'])).stdout) as { checkpoints: { running: boolean }[] };
    expect(listed.checkpoints[0]!.running).toBe(false);
    const report = await cleanup(root, '--keep', '0');
    expect(report.checkpoints[0]).toMatchObject({ path, decision: 'finished' });
    expect(report.checkpoints[0]!.removed).toContain(`${path}.lock`);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('keeps everything when --keep covers every checkpoint; an empty directory says so', async () => {
    const root = await fourCheckpoints();
    const before = tree(root);
    const report = await cleanup(root, '--keep', '4');
    expect(report.checkpoints.map((checkpoint) => checkpoint.decision)).toEqual(['kept', 'kept', 'kept', 'kept']);
    expect(report.removed).toBe(0);
    expect(tree(root)).toEqual(before);
    const empty = tempDir();
    expect(await runCli(['cleanup', empty, '--keep', '0'])).toEqual({ code: 0, stdout: `No checkpoints under ${empty}.\n`, stderr: '' });
  });
});
