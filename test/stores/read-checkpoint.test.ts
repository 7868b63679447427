import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoreEvents } from '../../src/stores/store.js';
import type { CheckpointChange } from '../../src/core/model.js';
import { CheckpointState } from '../../src/core/state.js';
import { JsonFileStore, YamlFileStore } from '../../src/stores/file/file-store.js';
import { encodeRecord } from '../../src/stores/file/journal.js';
import { sealedJournalName } from '../../src/stores/file/journal.js';
import { readCheckpoint } from '../../src/stores/file/read-checkpoint.js';
import { writeSnapshot } from '../../src/stores/file/snapshot-file.js';
import { jsonFormat, yamlFormat } from '../../src/stores/file/snapshot-formats.js';
import { tempDir } from './helpers.js';

const mark = (key: string): CheckpointChange => ({ op: 'item', step: 's', key, status: 'completed', attempts: 1, at: 1_764_000_000_000 });
const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => encodeRecord(from + i, mark(`k${from + i}`))).join('');

function recordingSession(document = new CheckpointState({ runId: 'r', createdAt: 'then', updatedAt: 'then' }).toDocument()) {
  const events: { event: keyof StoreEvents; payload: unknown }[] = [];
  return { events, session: { snapshot: () => document, emit: <E extends keyof StoreEvents>(event: E, payload: StoreEvents[E]) => events.push({ event, payload }) } };
}

/** The snapshot (holding `a`, up to sequence 2), a sealed journal with 3–4 and the journal with 3–5: a crash while the journal was rewritten at open. */
async function crashedDuringRewrite(extension: 'json' | 'yaml'): Promise<string> {
  const path = join(tempDir(), `cp.${extension}`);
  const state = new CheckpointState({ runId: 'r', createdAt: 'then', updatedAt: 'then' });
  state.apply(mark('a'));
  await writeSnapshot(path, extension === 'json' ? jsonFormat : yamlFormat, state.toDocument(), 2, 0);
  writeFileSync(sealedJournalName(`${path}.journal`, 1), lines(1, 4));
  writeFileSync(`${path}.journal`, lines(3, 5));
  return path;
}

const contents = (directory: string): Record<string, string> =>
  Object.fromEntries(readdirSync(directory).sort().map((name) => [name, readFileSync(join(directory, name), 'utf8')]));

describe.each(['json', 'yaml'] as const)('one read of a %s checkpoint for the CLI and the store', (extension) => {
  const Store = extension === 'json' ? JsonFileStore : YamlFileStore;

  it('gives the CLI and FileStore.open the same document and changes, each record once; only open rewrites the journal', async () => {
    const path = await crashedDuringRewrite(extension);
    const before = contents(join(path, '..'));
    const onDisk = await readCheckpoint(path);
    expect(contents(join(path, '..'))).toEqual(before);
    expect(onDisk!.changes).toEqual([mark('k3'), mark('k4'), mark('k5')]);
    expect(onDisk!.journal).toMatchObject({ records: 5, firstNewSequence: 3 });

    const store = new Store(path);
    const { session } = recordingSession();
    const loaded = await store.open(session);
    expect(loaded!.document).toEqual(onDisk!.document);
    expect([...loaded!.changes]).toEqual(onDisk!.changes);
    expect(existsSync(sealedJournalName(`${path}.journal`, 1))).toBe(false);
    expect(readFileSync(`${path}.journal`, 'utf8')).toBe(lines(3, 5));
    await store.close();
  });

  it('reads a backup in place of a damaged snapshot; only open moves the damaged one aside and reports it', async () => {
    const path = await crashedDuringRewrite(extension);
    await writeSnapshot(path, extension === 'json' ? jsonFormat : yamlFormat, new CheckpointState({ runId: 'r', createdAt: 'then', updatedAt: 'then' }).toDocument(), 2, 1);
    writeFileSync(path, '{ damaged');
    const onDisk = await readCheckpoint(path);
    expect(onDisk).toMatchObject({ snapshotFile: `${path}.bak`, damage: { name: 'CheckpointCorruptError' } });
    expect(readFileSync(path, 'utf8')).toBe('{ damaged');

    const store = new Store(path);
    const { session, events } = recordingSession();
    const loaded = await store.open(session);
    expect(loaded!.document).toEqual(onDisk!.document);
    expect([...loaded!.changes]).toEqual(onDisk!.changes);
    expect(events.find((e) => e.event === 'recovered')?.payload).toMatchObject({ from: `${path}.bak`, movedTo: expect.stringContaining(`${path}.corrupt-`) });
    expect(readdirSync(join(path, '..')).some((name) => name.includes('.corrupt-'))).toBe(true);
    await store.close();
  });
});
