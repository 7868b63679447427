import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { ENVIRONMENT_OPTIONS, environmentOptions, withEnvironmentOptions } from '../../src/stores/file/file-store-options.js';
import { JsonFileStore } from '../../src/stores/file/file-store.js';
import { ScriptedPipeline } from '../pipeline/support.js';

const dirs: string[] = [];
const saved: NodeJS.ProcessEnv = { ...process.env };

afterEach(() => {
  for (const variable of Object.keys(ENVIRONMENT_OPTIONS)) {
    if (saved[variable] === undefined) delete process.env[variable];
    else process.env[variable] = saved[variable];
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-env-'));
  dirs.push(dir);
  return dir;
}

function argumentError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointArgumentError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

const journalOf = (path: string): string => (existsSync(`${path}.journal`) ? readFileSync(`${path}.journal`, 'utf8') : '');

describe('environmentOptions: the variables deployers set', () => {
  it('maps every variable of the table to its option, reading numbers as numbers', () => {
    expect(
      environmentOptions({
        CHECKPOINTER_DURABILITY: 'batched',
        CHECKPOINTER_FSYNC_INTERVAL_MS: '250.5',
        CHECKPOINTER_BATCH_SIZE: ' 500 ',
        CHECKPOINTER_BATCH_INTERVAL_MS: '2000',
        CHECKPOINTER_BACKUPS: '0',
        CHECKPOINTER_SNAPSHOT_INTERVAL_MS: '60000',
        CHECKPOINTER_SOMETHING_ELSE: 'x',
      }),
    ).toEqual({ durability: 'batched', fsyncIntervalMs: 250.5, batchSize: 500, batchIntervalMs: 2000, backups: 0, snapshotIntervalMs: 60000 });
    expect(environmentOptions({ CHECKPOINTER_DURABILITY: '', CHECKPOINTER_BACKUPS: '  ' })).toEqual({});
    expect(environmentOptions({})).toEqual({});
  });

  it('refuses a bad value as the option would, naming the variable, the value and what it may be', () => {
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_DURABILITY: 'Full' }))).toBe(
      "Expected the environment variable CHECKPOINTER_DURABILITY (the option `durability`) to be one of 'full', 'normal', 'batched', got \"Full\" — did you mean 'full'? — correct it or unset it",
    );
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_BATCH_SIZE: 'ten' }))).toContain(
      'CHECKPOINTER_BATCH_SIZE (the option `batchSize`) to be a positive integer, got "ten"',
    );
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_BATCH_SIZE: '0' }))).toContain('to be a positive integer, got "0"');
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_BACKUPS: '-1' }))).toContain('CHECKPOINTER_BACKUPS (the option `backups`) to be a non-negative integer, got "-1"');
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_BACKUPS: '1e3' }))).toContain('got "1e3"');
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_BATCH_INTERVAL_MS: '0' }))).toContain('CHECKPOINTER_BATCH_INTERVAL_MS (the option `batchIntervalMs`) to be a number from 1 to 2147483647');
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_FSYNC_INTERVAL_MS: '1s' }))).toContain('got "1s"');
    expect(argumentError(() => environmentOptions({ CHECKPOINTER_SNAPSHOT_INTERVAL_MS: '-5' }))).toContain(
      'CHECKPOINTER_SNAPSHOT_INTERVAL_MS (the option `snapshotIntervalMs`) to be a number from 0 to 2147483647, got "-5"',
    );
  });

  it('lets an option given in code win over its variable; undefined counts as not given', () => {
    const env = { CHECKPOINTER_DURABILITY: 'full', CHECKPOINTER_BACKUPS: '7' };
    expect(withEnvironmentOptions({ durability: 'batched', backups: undefined, lock: false }, env)).toEqual({ durability: 'batched', backups: 7, lock: false });
    expect(withEnvironmentOptions({}, {})).toEqual({});
  });
});

describe('the variables at work: read once when a file store is made', () => {
  it('CHECKPOINTER_DURABILITY and CHECKPOINTER_BATCH_SIZE make CheckpointManager.open with a path batch its marks', async () => {
    const path = join(tempDir(), 'batched.json');
    process.env.CHECKPOINTER_DURABILITY = 'batched';
    process.env.CHECKPOINTER_BATCH_SIZE = '1000';
    process.env.CHECKPOINTER_BATCH_INTERVAL_MS = '600000';
    const cp = await CheckpointManager.open({ path });
    // Read once: changing the environment later does nothing to this checkpoint.
    process.env.CHECKPOINTER_DURABILITY = 'full';
    await cp.markItemCompleted('step', 'first-item');
    expect(journalOf(path)).not.toContain('first-item');
    await cp.flush();
    expect(journalOf(path)).toContain('first-item');
    await cp.close();

    // An explicit option wins: with `normal` the mark is in the journal before it resolves.
    process.env.CHECKPOINTER_DURABILITY = 'batched';
    const explicit = await CheckpointManager.open({ path, durability: 'normal' });
    await explicit.markItemCompleted('step', 'second-item');
    expect(journalOf(path)).toContain('second-item');
    await explicit.close();
  });

  it('CHECKPOINTER_BACKUPS sets how many backups a store keeps, unless the code says', async () => {
    const dir = tempDir();
    const path = join(dir, 'backups.json');
    let items = 0;
    const rewrite = async (options: { backups?: number } = {}): Promise<void> => {
      const cp = await CheckpointManager.open({ path, ...options });
      await cp.markItemCompleted('step', `item-${++items}`);
      await cp.close(); // writes a new snapshot, turning the old one into a backup
    };
    process.env.CHECKPOINTER_BACKUPS = '0';
    for (let i = 0; i < 3; i++) await rewrite();
    expect(readdirSync(dir).filter((file) => file.includes('.bak'))).toEqual([]);
    for (let i = 0; i < 3; i++) await rewrite({ backups: 2 });
    expect(readdirSync(dir).filter((file) => file.includes('.bak')).sort()).toEqual(['backups.json.bak', 'backups.json.bak.1']);
  });

  it('a bad variable stops JsonFileStore, CheckpointManager.open and a Pipeline before anything is written', async () => {
    const dir = tempDir();
    const path = join(dir, 'bad.json');
    process.env.CHECKPOINTER_DURABILITY = 'fast';
    expect(() => new JsonFileStore(path)).toThrow('Expected the environment variable CHECKPOINTER_DURABILITY (the option `durability`)');
    await expect(CheckpointManager.open({ path })).rejects.toThrow('CHECKPOINTER_DURABILITY');
    const pipeline = new ScriptedPipeline('bad', () => [{ name: 'a', run: () => ({}) }], { path });
    await expect(pipeline.run({})).rejects.toThrow(CheckpointArgumentError);
    // An explicit option does not rescue a broken variable: it is a mistake either way.
    await expect(CheckpointManager.open({ path, durability: 'full' })).rejects.toThrow('CHECKPOINTER_DURABILITY');
    expect(readdirSync(dir)).toEqual([]);
  });
});
