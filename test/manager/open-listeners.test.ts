import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, CheckpointStoreError, MemoryStore, type RecoveredEvent } from '../../src/index.js';

const quiet = { warn: () => {}, error: () => {} };

describe('listeners given to open()', () => {
  it('hear the recovery from a backup that happens while opening', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'checkpointer-listeners-')), 'checkpoint.json');
    const first = await CheckpointManager.open({ path, logger: quiet, minCompactBytes: 1 });
    await first.markItemCompleted('step', 'a');
    await first.close();
    const again = await CheckpointManager.open({ path, logger: quiet });
    await again.markItemCompleted('step', 'b');
    await again.close(); // compacts: the snapshot holding "a" becomes checkpoint.json.bak
    writeFileSync(path, '{ "version": 1, "metadata": ');

    const heard: RecoveredEvent[] = [];
    const second = await CheckpointManager.open({ path, logger: quiet, on: { recovered: (event) => heard.push(event) } });
    expect(heard).toHaveLength(1);
    expect(heard[0]!.from).toBe(`${path}.bak`);
    expect(heard[0]!.movedTo).toMatch(/checkpoint\.json\.corrupt-/);
    expect(heard[0]!.problems[0]!.message).toMatch(/not valid JSON/);
    await second.close();
  });
});

describe('what a broken caller or store gets', () => {
  it('pendingItems with something that is not iterable is a CheckpointArgumentError', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore() });
    expect(() => cp.pendingItems('s', 5 as never)).toThrow(CheckpointArgumentError);
    expect(() => cp.pendingItems('s', null as never)).toThrow(/Expected `items` to be an array or another iterable/);
    await cp.close();
  });

  it("a store whose open() hands back something that is not a checkpoint is a CheckpointStoreError, even if it closes synchronously", async () => {
    const store = { location: 'broken', open: () => ({ document: 5, changes: [] }), append() {}, save() {}, flush() {}, close() {}, remove() {} };
    await expect(CheckpointManager.open({ store: store as never })).rejects.toBeInstanceOf(CheckpointStoreError);
  });
});
