import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import { filesIn, open, openHearing, tempDir, twoRuns } from './helpers.js';


async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => {
    throw new Error('expected open to fail');
  }, (error: unknown) => error);
}

/** The files of a checkpoint that is still open, copied elsewhere: what a kill -9 would leave. */
function crashCopy(path: string): string {
  const directory = tempDir();
  const name = path.slice(path.lastIndexOf('/') + 1);
  for (const entry of readdirSync(join(path, '..'))) {
    if (entry.startsWith(name) && !entry.endsWith('.lock')) copyFileSync(join(path, '..', entry), join(directory, entry));
  }
  return join(directory, name);
}


const sequenceOf = (file: string): number => (JSON.parse(readFileSync(file, 'utf8')) as { sequence: number }).sequence;
const journalLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const sequenceOfLine = (line: string): number => (JSON.parse(line.slice(9)) as { n: number }).n;

describe('a missing snapshot with files beside it is damage, not a fresh start', () => {
  it('only backups left: the newest good one is loaded with `recovered`, not an empty checkpoint', async () => {
    const path = join(tempDir(), 'cp.json');
    await twoRuns(path);
    rmSync(path);
    const { cp, recovered, warnings } = await openHearing({ path });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.from).toBe(`${path}.bak`);
    expect(recovered[0]!.problems[0]!.message).toMatch(/missing/);
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    expect(cp.isItemCompleted('s', 'b')).toBe(true);
    // What the lost snapshot held beyond the backup cannot be counted: it is said, not hidden.
    expect(warnings.map((warning) => warning.message).join('\n')).toMatch(/lost/);
    await cp.close();
  });

  it('backup plus journal: both are loaded, the change only the lost snapshot held is said to be lost, and the next open is clean', async () => {
    const directory = tempDir();
    const source = join(directory, 'cp.json');
    await twoRuns(source);
    const live = await open({ path: source });
    await live.markItemCompleted('s', 'd');
    await live.flush();
    const path = crashCopy(source);
    await live.close();
    // Lost: the snapshot (a, b, c). Left: .bak (a, b) and .bak.1, and the journal (d).
    rmSync(path);
    const { cp, recovered, warnings } = await openHearing({ path });
    expect(recovered.map((event) => event.from)).toEqual([`${path}.bak`]);
    expect(cp.isItemCompleted('s', 'd')).toBe(true);
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    expect(warnings.map((warning) => warning.message).join('\n')).toMatch(/lost/);
    await cp.close();
    const again = await openHearing({ path });
    expect(again.recovered).toEqual([]);
    expect(again.cp.isItemCompleted('s', 'd')).toBe(true);
    await again.cp.close();
  });

  it('the records between the backup and the journal are counted as lost', async () => {
    const directory = tempDir();
    const source = join(directory, 'cp.json');
    let cp = await open({ path: source });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    const live = await open({ path: source });
    await live.markItemCompleted('s', 'b');
    await live.markItemCompleted('s', 'c');
    await live.flush();
    const path = crashCopy(source);
    await live.close();
    const backupSequence = sequenceOf(path);
    const lines = journalLines(`${path}.journal`);
    expect(sequenceOfLine(lines[0]!)).toBe(backupSequence + 1);
    // The snapshot and the journal's first record are gone: the backup is the current snapshot's copy.
    copyFileSync(path, `${path}.bak`);
    rmSync(path);
    writeFileSync(`${path}.journal`, `${lines.slice(1).join('\n')}\n`);
    const lost = sequenceOfLine(lines[1]!) - backupSequence - 1;
    const opened = await openHearing({ path });
    cp = opened.cp;
    expect(opened.recovered).toHaveLength(1);
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    expect(cp.isItemCompleted('s', 'c')).toBe(true);
    const said = [...opened.warnings.map((warning) => warning.message), ...opened.recovered[0]!.problems.map((problem) => problem.message)].join('\n');
    expect(said).toContain(`${lost} change(s)`);
    await cp.close();
  });

  it('only damaged backups left: CheckpointCorruptError, not an empty checkpoint', async () => {
    const path = join(tempDir(), 'cp.json');
    await twoRuns(path);
    rmSync(path);
    writeFileSync(`${path}.bak`, 'garbage');
    writeFileSync(`${path}.bak.1`, 'garbage too');
    const error = await failure(open({ path }));
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/missing/);
  });
});

describe("onCorrupt: 'restart' covers every kind of damage", () => {
  /** A checkpoint whose journal holds several records, as a kill would leave it. */
  async function withJournal(): Promise<string> {
    const source = join(tempDir(), 'cp.json');
    const live = await open({ path: source });
    for (const key of ['a', 'b', 'c', 'd']) await live.markItemCompleted('s', key);
    await live.flush();
    const path = crashCopy(source);
    await live.close();
    return path;
  }

  const damage = (line: string): string => line.replace('"s"', '"S"');

  async function expectRestarted(path: string, damagedFile: string, content: string): Promise<void> {
    const directory = join(path, '..');
    const { cp, warnings } = await openHearing({ path, onCorrupt: 'restart' });
    expect(cp.isItemCompleted('s', 'a')).toBe(false);
    expect(cp.isItemCompleted('s', 'd')).toBe(false);
    expect(warnings.map((warning) => warning.message).join('\n')).toContain("onCorrupt: 'restart'");
    const aside = filesIn(directory).filter((name) => name.includes('.corrupt-'));
    expect(aside.map((name) => readFileSync(join(directory, name), 'utf8'))).toContain(content);
    expect(aside.some((name) => name.startsWith(`${damagedFile.slice(damagedFile.lastIndexOf('/') + 1)}.corrupt-`))).toBe(true);
    await cp.markItemCompleted('s', 'z');
    await cp.close();
    const again = await openHearing({ path });
    expect(again.cp.isItemCompleted('s', 'z')).toBe(true);
    expect(again.cp.isItemCompleted('s', 'a')).toBe(false);
    await again.cp.close();
  }

  it('a damaged record followed by good ones: fails by default, restarts with the files moved aside', async () => {
    const path = await withJournal();
    const lines = journalLines(`${path}.journal`);
    lines[1] = damage(lines[1]!);
    const content = `${lines.join('\n')}\n`;
    writeFileSync(`${path}.journal`, content);
    expect(await failure(open({ path }))).toBeInstanceOf(CheckpointCorruptError);
    await expectRestarted(path, `${path}.journal`, content);
  });

  it('a sequence that does not follow: restarts', async () => {
    const path = await withJournal();
    const lines = journalLines(`${path}.journal`);
    const content = `${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}\n`;
    writeFileSync(`${path}.journal`, content);
    expect(await failure(open({ path }))).toBeInstanceOf(CheckpointCorruptError);
    await expectRestarted(path, `${path}.journal`, content);
  });

  it('a damaged sealed journal: restarts', async () => {
    const path = await withJournal();
    const lines = journalLines(`${path}.journal`);
    lines[0] = damage(lines[0]!);
    const content = `${lines.join('\n')}\n`;
    // Sealed journals are `<file>.journal.sealed-<n>` (a name write-file-atomic's temp files cannot have).
    const sealed = `${path}.journal.sealed-1`;
    writeFileSync(sealed, content);
    writeFileSync(`${path}.journal`, '');
    expect(await failure(open({ path }))).toBeInstanceOf(CheckpointCorruptError);
    await expectRestarted(path, sealed, content);
  });

  it('restarting moves the old run aside whole: none of its backups stands in for the new run later', async () => {
    const source = join(tempDir(), 'cp.json');
    await twoRuns(source);
    const live = await open({ path: source });
    for (const key of ['d', 'e']) await live.markItemCompleted('s', key);
    await live.flush();
    const path = crashCopy(source);
    await live.close();
    const directory = join(path, '..');
    const lines = journalLines(`${path}.journal`);
    lines[0] = damage(lines[0]!);
    writeFileSync(`${path}.journal`, `${lines.join('\n')}\n`);
    const before = filesIn(directory);
    const restarted = await openHearing({ path, onCorrupt: 'restart' });
    await restarted.cp.markItemCompleted('s', 'z');
    await restarted.cp.flush();
    const after = filesIn(directory);
    for (const name of before) expect(after.some((entry) => entry.startsWith(`${name}.corrupt-`))).toBe(true);
    // The new run is killed before its first compaction, and its snapshot lost.
    const copy = crashCopy(path);
    await restarted.cp.close();
    rmSync(copy);
    const a = await openHearing({ path: copy }).then(async ({ cp }) => {
      const completed = cp.isItemCompleted('s', 'a');
      await cp.close();
      return completed;
    }, () => false);
    expect(a).toBe(false);
  });
});

describe('a snapshot deleted with no backup to fall back on (backups: 0)', () => {
  it('is an error naming the journal left beside it, not a silent empty start', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path, backups: 0 });
    for (let i = 0; i < 500; i++) await cp.markItemCompleted('s', `k${i}`);
    await cp.close(); // compacted: the journal is empty now
    rmSync(path);
    const error = await open({ path, backups: 0 }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/missing, but its journal exists/);
  });

  it('a new checkpoint opens with its snapshot written and its journal beside it', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const cp = await open({ path, backups: 0 });
    expect(filesIn(directory).filter((name) => !name.endsWith('.lock'))).toEqual(['cp.json', 'cp.json.journal']);
    await cp.close();
  });
});
