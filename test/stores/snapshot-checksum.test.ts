import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import { readCheckpoint } from '../../src/stores/file/read-checkpoint.js';
import { validateCheckpoint } from '../../src/cli/validate-command.js';
import { open, openHearing, tempDir } from './helpers.js';


/** The files of a checkpoint that is still open, copied elsewhere: what a kill -9 would leave. */
function crashCopy(path: string): string {
  const directory = tempDir();
  const name = basename(path);
  for (const entry of readdirSync(join(path, '..'))) {
    if (entry.startsWith(name) && !entry.endsWith('.lock')) copyFileSync(join(path, '..', entry), join(directory, entry));
  }
  return join(directory, name);
}

/**
 * Two closed runs (a, b then c), then a live one (d, e) killed: the snapshot holds a, b, c, its
 * `.bak` a, b, and the journal d, e.
 */
async function killedThirdRun(extension: 'json' | 'yaml'): Promise<string> {
  const source = join(tempDir(), `cp.${extension}`);
  let cp = await open({ path: source });
  await cp.markItemCompleted('s', 'a');
  await cp.markItemCompleted('s', 'b');
  await cp.close();
  cp = await open({ path: source });
  await cp.markItemCompleted('s', 'c');
  await cp.close();
  cp = await open({ path: source });
  await cp.markItemCompleted('s', 'd');
  await cp.markItemCompleted('s', 'e');
  await cp.flush();
  const path = crashCopy(source);
  await cp.close();
  return path;
}

describe.each(['json', 'yaml'] as const)('the %s snapshot carries a checksum', (extension) => {
  it('a flipped digit in `sequence` is detected: the backup is loaded and the journal records are kept', async () => {
    const path = await killedThirdRun(extension);
    const text = readFileSync(path, 'utf8');
    const match = /sequence"?: (\d+)/.exec(text)!;
    const flipped = `${Number(match[1]![0]) + 2}${match[1]!.slice(1)}${match[1]!.length === 1 ? '0' : ''}`;
    expect(Number(flipped)).toBeGreaterThan(Number(match[1]));
    writeFileSync(path, text.replace(match[0], match[0].replace(match[1]!, flipped)));
    const { cp, recovered, warnings } = await openHearing({ path });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.from).toBe(`${path}.bak`);
    expect(recovered[0]!.problems[0]!.message).toMatch(/checksum/);
    // d and e are in the journal: replayed. c was only in the damaged snapshot: said to be lost.
    for (const key of ['a', 'b', 'd', 'e']) expect(cp.isItemCompleted('s', key)).toBe(true);
    expect([...warnings.map((w) => w.message), ...recovered[0]!.problems.map((p) => p.message)].join('\n')).toMatch(/lost/);
    await cp.close();
  });

  it('any changed byte of the content is detected, not only ones that break the syntax', async () => {
    const path = await killedThirdRun(extension);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('"c"', '"x"'));
    const { cp, recovered } = await openHearing({ path });
    expect(recovered).toHaveLength(1);
    expect(cp.isItemCompleted('s', 'x')).toBe(false);
    await cp.close();
  });

  it('a snapshot without a checksum (hand-written, or from an older version) loads as it is', async () => {
    const path = await killedThirdRun(extension);
    const text = readFileSync(path, 'utf8');
    const without = text.replace(/^ *"?checksum"?: "?crc32:[0-9a-f]{8}"?,?\n/m, '');
    expect(without).not.toBe(text);
    expect(without).not.toMatch(/checksum/);
    writeFileSync(path, without);
    const { cp, recovered } = await openHearing({ path });
    expect(recovered).toEqual([]);
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect(cp.isItemCompleted('s', key)).toBe(true);
    await cp.close();
    // The next snapshot written has one again.
    expect(readFileSync(path, 'utf8')).toMatch(/checksum"?: "?crc32:[0-9a-f]{8}/);
  });

  it('the CLI reader verifies it too', async () => {
    const path = await killedThirdRun(extension);
    const good = await readCheckpoint(path);
    expect(good?.damage).toBeUndefined();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"c"', '"x"'));
    const read = await readCheckpoint(path);
    expect(read?.damage).toBeInstanceOf(CheckpointCorruptError);
    expect(read?.snapshotFile).toBe(`${path}.bak`);
    const report = await validateCheckpoint(path);
    expect(report.valid).toBe(false);
    expect(report.problems.map((problem) => problem.message).join('\n')).toMatch(/checksum/);
  });

  it('a big snapshot, rendered in chunks and with non-ASCII keys, verifies', async () => {
    const path = join(tempDir(), `cp.${extension}`);
    const cp = await open({ path, minCompactBytes: 2 ** 40 });
    const keys = Array.from({ length: 45_000 }, (_, i) => (i % 7 === 0 ? `ключ-${i}-✓` : `item-${i}`));
    for (const key of keys) await cp.markItemCompleted('s', key);
    await cp.close();
    const { cp: again, recovered } = await openHearing({ path });
    expect(recovered).toEqual([]);
    expect(again.pendingItems('s', keys)).toEqual([]);
    await again.close();
    const read = await readCheckpoint(path);
    expect(read?.damage).toBeUndefined();
  });
});

describe('legacy files without a checksum', () => {
  const legacy = join(import.meta.dirname, '..', 'fixtures', 'legacy');
  it.each(readdirSync(legacy))('%s still loads', async (name) => {
    const path = join(tempDir(), name.replace(/^seed-\d+-/, ''));
    copyFileSync(join(legacy, name), path);
    const { cp, recovered } = await openHearing({ path, onConfigChange: 'accept' });
    expect(recovered).toEqual([]);
    await cp.close();
  });
});

describe('a snapshot rewritten by a program', () => {
  it('JSON.parse and JSON.stringify of it (the checksum no longer the line checkpointer wrote) load without a check', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    const document = JSON.parse(readFileSync(path, 'utf8')) as { checksum: string; steps: { s: { completedItems: string[] } } };
    expect(document.checksum).toMatch(/^crc32:[0-9a-f]{8}$/);
    document.steps.s.completedItems.push('edited');
    writeFileSync(path, JSON.stringify(document));
    const { cp: again, recovered } = await openHearing({ path });
    expect(recovered).toEqual([]);
    expect(again.isItemCompleted('s', 'edited')).toBe(true);
    await again.close();
  });
});
