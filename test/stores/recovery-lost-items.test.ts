import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChildWorker } from '../support/processes.js';
import { open, openHearing, openRecorded, tempDir } from './helpers.js';

const job = fileURLToPath(new URL('../manager/children/output-job.ts', import.meta.url));
const quiet = { warn: () => {}, error: () => {} };
const items = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `item-${from + i}`);

/** A run in a real process that marks `render` items up to `count` and is killed without closing. */
async function killedRun(path: string, outputs: string, count: number): Promise<void> {
  const child = new ChildWorker(job, ['run', path, outputs, String(count)]);
  await child.waitForLine((line) => line === 'FINISHED');
  expect((await child.kill()).signal, child.stderr).toBe('SIGKILL');
}

/** Changes the snapshot so that it still parses but no longer matches its checksum: damaged. */
function damageKeepingItDamagedButReadable(path: string): void {
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('"context": {}');
  writeFileSync(path, text.replace('"context": {}', '"context": {"edited": true}'));
}

describe('a recovery from a backup says how many completed items it could not bring back', () => {
  it('counts the items only the damaged snapshot held, not those the journal replays', async () => {
    const directory = tempDir();
    const path = join(directory, 'checkpoint.json');
    const outputs = join(directory, 'out');
    mkdirSync(outputs);
    await killedRun(path, outputs, 3);
    await (await open({ path })).close(); // snapshot: item-0 … item-2
    await killedRun(path, outputs, 6);
    await (await open({ path })).close(); // snapshot: item-0 … item-5; .bak: item-0 … item-2
    await killedRun(path, outputs, 9); // journal: item-6 … item-8
    damageKeepingItDamagedButReadable(path);

    const { cp, logs } = await openRecorded({ path });
    const recovered = logs.find((line) => line.includes('loaded the backup'));
    expect(recovered).toContain('3 completed item(s) only the damaged file held will be done again');
    expect(cp.pendingItems('render', items(0, 9))).toEqual(items(3, 6));
    expect(logs.some((line) => line.includes('3 completed item(s) (render: 3) that the damaged snapshot held are not in') && line.includes('they will be done again'))).toBe(true);
  });

  it('puts the count on the recovered event, by step', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    let cp = await open({ path });
    await cp.markItemCompleted('a', '1');
    await cp.close();
    cp = await open({ path });
    await cp.markItemCompleted('a', '2');
    await cp.markItemCompleted('a', '3');
    await cp.markItemCompleted('b', '1', { words: 3 }); // kept with details: counted too
    await cp.close();
    damageKeepingItDamagedButReadable(path);

    const { cp: reopened, recovered, warnings } = await openHearing({ path, logger: quiet });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ from: `${path}.bak`, lostItems: 3, lostItemsByStep: { a: 2, b: 1 } });
    expect(warnings.map((warning) => warning.message).join('\n')).toContain('3 completed item(s) (a: 2, b: 1)');
    expect(reopened.isItemCompleted('a', '1')).toBe(true);
    expect(reopened.isItemCompleted('a', '2')).toBe(false);
    await reopened.close();
  });

  it('says nothing was lost when the backup has every item, and that it is not known when the damaged file cannot be read', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    let cp = await open({ path });
    await cp.markItemCompleted('a', '1');
    await cp.close();
    cp = await open({ path });
    await cp.increment('cost', 5);
    await cp.close();
    damageKeepingItDamagedButReadable(path);
    const first = await openRecorded({ path });
    expect(first.logs.find((line) => line.includes('loaded the backup'))).toContain('no completed item was lost');
    await first.cp.markItemCompleted('a', '2');
    await first.cp.close();

    writeFileSync(path, '{ "version": 1, "steps": { "a": { "completedItems": ["1", "2"');
    const logged: string[] = [];
    const { cp: last, recovered } = await openHearing({ path, logger: { warn: (line: string) => logged.push(line), error: () => {} } });
    expect(recovered).toHaveLength(1);
    expect(logged.find((line) => line.includes('loaded the backup'))).toContain('how many completed items only the damaged file held is not known');
    expect(recovered[0]!.lostItems).toBeUndefined();
    expect(recovered[0]!.lostItemsByStep).toBeUndefined();
    await last.close();
  });
});
