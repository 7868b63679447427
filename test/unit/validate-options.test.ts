import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { checkOptions, checkValue, closest, rules } from '../../src/core/validate-options.js';
import { parseCheckpointFlags } from '../../src/flags/parse-checkpoint-flags.js';
import { CheckpointManager, JsonFileStore, MemoryStore, YamlFileStore } from '../../src/index.js';
import { PostgresStore } from '../../src/postgres.js';
import { CLAIM_OPTIONS, resolveStoreOptions } from '../../src/stores/postgres/resolve-options.js';
import type { PostgresStoreOptions } from '../../src/stores/postgres/options.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { ScriptedPipeline } from '../pipeline/support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-options-'));
  dirs.push(dir);
  return dir;
}

const quiet = { warn: () => {}, error: () => {} };
const url = 'postgres://user:secret@localhost:5432/db';

/** The error `fn` throws (or its promise rejects with), checked to be an argument error. */
async function argumentError(fn: () => unknown): Promise<string> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CheckpointArgumentError);
  expect((thrown as CheckpointArgumentError).code).toBe('INVALID_ARGUMENT');
  return (thrown as Error).message;
}

describe('validate-options', () => {
  it('suggests the nearest key only when it is a likely typo', () => {
    expect(closest('durabilty', ['durability', 'backups'])).toBe('durability');
    expect(closest('Durability', ['backups', 'durability'])).toBe('durability');
    expect(closest('concurency', ['concurrency', 'retries'])).toBe('concurrency');
    expect(closest('retires', ['retries', 'retryOn'])).toBe('retries');
    expect(closest('colour', ['durability', 'backups'])).toBeUndefined();
  });

  it('describes numbers, enumerations and nested objects in the messages', async () => {
    const schema = { n: rules.number({ min: 1 }), x: rules.number({ min: 0, integer: false }), e: rules.oneOf('a', 'b', 'c'), o: rules.object({ k: rules.boolean }) };
    expect(await argumentError(() => checkOptions({ n: NaN }, schema, 'f'))).toBe('Expected `n` to be a positive integer, got `NaN` (number)');
    expect(await argumentError(() => checkOptions({ x: Infinity }, schema, 'f'))).toBe('Expected `x` to be a finite number of at least 0, got `Infinity` (number)');
    expect(await argumentError(() => checkOptions({ e: 'B' }, schema, 'f'))).toBe("Expected `e` to be one of 'a', 'b', 'c', got `\"B\"` (string) — did you mean 'b'?");
    expect(await argumentError(() => checkOptions({ o: { K: true } }, schema, 'f'))).toBe('Unknown option `o.K` for f — did you mean `o.k`?');
    expect(await argumentError(() => checkOptions({ zzz: 1 }, schema, 'f'))).toBe('Unknown option `zzz` for f — the options are `n`, `x`, `e`, `o`');
    expect(await argumentError(() => checkOptions(null, schema, 'f'))).toBe('Expected the options of f to be an object, got `null` (null)');
    expect(() => checkOptions({ n: undefined, typo: undefined, o: { k: undefined } }, schema, 'f')).not.toThrow();
    expect(checkValue('n', 3, schema.n)).toBe(3);
  });
});

describe('CheckpointManager.open options', () => {
  it("rejects durability 'Full' before any file is created", async () => {
    const dir = emptyDir();
    const message = await argumentError(() => CheckpointManager.open({ path: join(dir, 'sub', 'cp.json'), durability: 'Full' as 'full' }));
    expect(message).toBe("Expected `durability` to be one of 'full', 'normal', 'batched', got `\"Full\"` (string) — did you mean 'full'?");
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects an unknown key with the nearest known one, before any file is created', async () => {
    const dir = emptyDir();
    const message = await argumentError(() => CheckpointManager.open({ path: join(dir, 'cp.json'), durabilty: 'full' } as never));
    expect(message).toBe('Unknown option `durabilty` for CheckpointManager.open — did you mean `durability`?');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('checks the type of every option, functions and the store included', async () => {
    const store = new MemoryStore();
    const open = (options: object) => argumentError(() => CheckpointManager.open({ store, logger: quiet, ...options } as never));
    expect(await open({ retryFailed: 'yes' })).toContain('Expected `retryFailed` to be a boolean, got `"yes"` (string)');
    expect(await open({ keepOnComplete: 1 })).toContain('Expected `keepOnComplete` to be a boolean, got `1` (number)');
    expect(await open({ itemKey: 'id' })).toContain('Expected `itemKey` to be a function, got `"id"` (string)');
    expect(await open({ signal: {} })).toContain('Expected `signal` to be an AbortSignal');
    expect(await open({ logger: { warn: () => {} } })).toContain('Expected `logger` to be a logger (an object with warn and error functions');
    expect(await open({ pipeline: '' })).toContain('Expected `pipeline` to be a non-empty string, got `""` (string)');
    expect(await open({ onConfigChange: 'Accept' })).toContain("Expected `onConfigChange` to be one of 'reject', 'restart', 'accept', got `\"Accept\"` (string) — did you mean 'accept'?");
    expect(await open({ config: { when: new Date(0) } })).toContain('Expected `config` to be plain JSON, but config.when is a Date');
    expect(await open({ on: { recoverd: () => {} } })).toContain('Unknown option `on.recoverd` for CheckpointManager.open — did you mean `on.recovered`?');
    expect(await open({ on: { warning: 'log' } })).toContain('Expected `on.warning` to be a function, got `"log"` (string)');
    const { remove: _remove, ...noRemove } = { location: 'x', open: () => {}, append: () => {}, save: () => {}, flush: () => {}, close: () => {}, remove: () => {} };
    expect(await argumentError(() => CheckpointManager.open({ store: noRemove } as never))).toContain('Expected `store` to be a CheckpointStore (an object with a string `location`');
  });

  it('refuses zero, negative, NaN and (where it means nothing) Infinity', async () => {
    const open = (options: object) => argumentError(() => CheckpointManager.open({ store: new MemoryStore(), ...options }));
    expect(await open({ maxAttempts: 0 })).toContain('Expected `maxAttempts` to be a positive integer or Infinity, got `0` (number)');
    expect(await open({ maxAttempts: NaN })).toContain('got `NaN` (number)');
    expect(await open({ maxAttempts: 1.5 })).toContain('got `1.5` (number)');
    expect(await open({ maxErrors: Infinity })).toContain('Expected `maxErrors` to be a positive integer, got `Infinity` (number)');
    expect(await open({ maxErrors: -1 })).toContain('Expected `maxErrors` to be a positive integer, got `-1` (number)');
    const cp = await CheckpointManager.open({ store: new MemoryStore(), maxAttempts: Infinity });
    await cp.close();
  });

  it('checks the file-store options given with a path, and treats undefined as not given', async () => {
    const dir = emptyDir();
    const path = join(dir, 'cp.json');
    expect(await argumentError(() => CheckpointManager.open({ path, backups: -1 }))).toContain('Expected `backups` to be a non-negative integer, got `-1` (number)');
    expect(await argumentError(() => CheckpointManager.open({ path, batchSize: 0 }))).toContain('Expected `batchSize` to be a positive integer, got `0` (number)');
    expect(await argumentError(() => CheckpointManager.open({ path, fsyncIntervalMs: Infinity }))).toContain('Expected `fsyncIntervalMs` to be a number from 0 to 2147483647, got `Infinity` (number)');
    expect(readdirSync(dir)).toEqual([]);
    const cp = await CheckpointManager.open({ path, durability: undefined, onConfigChange: undefined, durabilty: undefined } as never);
    await cp.close();
    expect(readdirSync(dir)).toContain('cp.json');
  });

  it('refuses file-store options beside a store, which would silently ignore them', async () => {
    const message = await argumentError(() => CheckpointManager.open({ store: new MemoryStore(), durability: 'full', backups: 5 }));
    expect(message).toMatch(/`durability`.*`backups`|`backups`.*`durability`/);
    expect(message).toContain('new JsonFileStore(path, { durability })');
  });
});

describe('file store options', () => {
  it.each([
    ['JsonFileStore', (path: string, options: object) => new JsonFileStore(path, options)],
    ['YamlFileStore', (path: string, options: object) => new YamlFileStore(path, options)],
  ])('%s checks its options when it is made', async (_name, make) => {
    const path = join(emptyDir(), 'cp');
    expect(await argumentError(() => make(path, { durability: 'Full' }))).toContain("Expected `durability` to be one of 'full', 'normal', 'batched', got `\"Full\"` (string)");
    expect(await argumentError(() => make(path, { durabilty: 'full' }))).toContain('Unknown option `durabilty` for a file store (JsonFileStore, YamlFileStore) — did you mean `durability`?');
    expect(await argumentError(() => make(path, { lock: 'no' }))).toContain('Expected `lock` to be a boolean, got `"no"` (string)');
    expect(await argumentError(() => make(path, { batchIntervalMs: 0 }))).toContain('Expected `batchIntervalMs` to be a number from 1 to 2147483647, got `0` (number)');
    expect(await argumentError(() => make(path, { minCompactBytes: NaN }))).toContain('Expected `minCompactBytes` to be a non-negative integer, got `NaN` (number)');
    expect(await argumentError(() => make(path, { onCorrupt: 'Restart' }))).toContain("Expected `onCorrupt` to be 'fail' or 'restart', got `\"Restart\"` (string) — did you mean 'restart'?");
    expect(() => make(path, { durability: 'batched', batchSize: 10, fsyncIntervalMs: 0, backups: 0, lock: false })).not.toThrow();
    expect(await argumentError(() => make(5 as never, {}))).toContain('Expected `path` to be a non-empty string, got `5` (number)');
    expect(await argumentError(() => make('', {}))).toContain('Expected `path` to be a non-empty string');
    expect(await argumentError(() => make(path, null as never))).toContain('to be an object, got `null` (null)');
    // Inherited options are read like own ones, so they are checked like them.
    expect(await argumentError(() => make(path, Object.create({ durability: 'bogus' }) as object))).toContain('Expected `durability` to be one of');
  });
});

describe('Pipeline options', () => {
  type Ctx = { done?: boolean };
  const steps = (): StepDefinition<Ctx>[] => [{ name: 'a', run: () => ({ done: true }) }, { name: 'b', run: () => undefined }];

  it('checks the constructor options', async () => {
    const make = (options: object) => argumentError(() => new ScriptedPipeline('p', steps, { logger: quiet, ...options } as never));
    expect(await make({ path: 'x.json', durability: 'Full' })).toContain("Expected `durability` to be one of 'full', 'normal', 'batched', got `\"Full\"` (string)");
    expect(await make({ path: 'x.json', onSaveError: 'Log' })).toContain("Expected `onSaveError` to be 'log' or 'throw', got `\"Log\"` (string) — did you mean 'log'?");
    expect(await make({ path: 'x.json', keepOnCompleted: true })).toContain('Unknown option `keepOnCompleted` for the Pipeline constructor — did you mean `keepOnComplete`?');
    expect(await make({ path: 'x.json', maxErrors: 0 })).toContain('Expected `maxErrors` to be a positive integer, got `0` (number)');
    expect(await make({ path: 'x.json', logger: 'console' })).toContain('Expected `logger` to be a logger');
    expect(await make({ path: 'x.json', pipeline: 'p' })).toContain('Unknown option `pipeline` for the Pipeline constructor');
  });

  it('refuses file-store options beside a store, which has its own', async () => {
    const store = new MemoryStore();
    const message = await argumentError(() => new ScriptedPipeline('p', steps, { store, durability: 'full', backups: 2, logger: quiet }));
    expect(message).toContain('Expected no `durability`, `backups` together with `store`, because they would be ignored');
    expect(() => new ScriptedPipeline('p', steps, { store, durability: undefined, logger: quiet })).not.toThrow();
  });

  it('hands file-store options given with a path on to the store it makes', async () => {
    const dir = emptyDir();
    const pipeline = new ScriptedPipeline('p', steps, { path: join(dir, 'cp.json'), durability: 'full', backups: 1, onSaveError: 'throw', keepOnComplete: true, logger: quiet });
    const result = await pipeline.run({});
    expect(result.context).toMatchObject({ done: true });
    expect(readdirSync(dir)).toContain('cp.json');
  });

  it('checks the run options', async () => {
    const pipeline = new ScriptedPipeline('p', steps, { store: new MemoryStore(), logger: quiet });
    expect(await argumentError(() => pipeline.run({}, { dryrun: true } as never))).toContain('Unknown option `dryrun` for Pipeline.run — did you mean `dryRun`?');
    expect(await argumentError(() => pipeline.run({}, { resume: 'no' } as never))).toContain('Expected `resume` to be a boolean, got `"no"` (string)');
    expect(await argumentError(() => pipeline.run({}, { from: 'A' }))).toContain('Expected `from` to be one of the steps "a", "b", got `"A"` (string) — did you mean \'a\'?');
    expect(await argumentError(() => pipeline.run({}, { to: 3 } as never))).toContain('Expected `to` to be one of the steps "a", "b", got `3` (number)');
    expect(await argumentError(() => pipeline.run({}, 'fast' as never))).toContain('Expected the options of Pipeline.run to be an object');
  });
});

describe('forEach options', () => {
  async function forEach(options: object): Promise<string> {
    const cp = await CheckpointManager.open({ store: new MemoryStore(), logger: quiet });
    try {
      return await argumentError(() => cp.step('s').forEach(['a'], () => undefined, options as never));
    } finally {
      await cp.close();
    }
  }

  it('refuses zero, negative, NaN and Infinity where they mean nothing', async () => {
    expect(await forEach({ concurrency: 0 })).toContain('Expected `concurrency` to be a positive integer, got `0` (number)');
    expect(await forEach({ concurrency: NaN })).toContain('Expected `concurrency` to be a positive integer, got `NaN` (number)');
    expect(await forEach({ concurrency: Infinity })).toContain('Expected `concurrency` to be a positive integer, got `Infinity` (number)');
    expect(await forEach({ retries: -1 })).toContain('Expected `retries` to be a non-negative integer or Infinity, got `-1` (number)');
    expect(await forEach({ timeoutMs: 0 })).toContain('Expected `timeoutMs` to be a number from 1 to 2147483647, got `0` (number)');
    expect(await forEach({ timeoutMs: Infinity })).toContain('got `Infinity` (number)');
    expect(await forEach({ backoff: { factor: 0.5 } })).toContain('Expected `backoff.factor` to be a finite number of at least 1, got `0.5` (number)');
    expect(await forEach({ total: -3 })).toContain('Expected `total` to be a non-negative integer, got `-3` (number)');
  });

  it('checks types and unknown keys, nested ones included', async () => {
    expect(await forEach({ concurency: 2 })).toContain('Unknown option `concurency` for forEach — did you mean `concurrency`?');
    expect(await forEach({ backoff: { intialMs: 10 } })).toContain('Unknown option `backoff.intialMs` for forEach — did you mean `backoff.initialMs`?');
    expect(await forEach({ backoff: 100 })).toContain('Expected `backoff` to be an object with `initialMs`, `factor`, `maxMs`, got `100` (number)');
    expect(await forEach({ retryOn: 'always' })).toContain('Expected `retryOn` to be a function, got `"always"` (string)');
    expect(await forEach({ signal: { aborted: false } })).toContain('Expected `signal` to be an AbortSignal');
    expect(await forEach({ failFast: 'yes' })).toContain('Expected `failFast` to be a boolean, got `"yes"` (string)');
  });

  it('runs with valid options, undefined ones counting as not given', async () => {
    const cp = await CheckpointManager.open({ store: new MemoryStore(), logger: quiet });
    const report = await cp.step('s').forEach(['a', 'b'], () => undefined, { concurrency: 2, retries: Infinity, timeoutMs: undefined, backoff: { maxMs: undefined } });
    expect(report.completed).toBe(2);
    await cp.close();
  });
});

describe('PostgresStore options', () => {
  const make = (options: object) => argumentError(() => new PostgresStore({ connectionString: url, pipeline: 'p', ...options } as PostgresStoreOptions));

  it('checks values, enumerations and numbers', async () => {
    expect(await make({ durability: 'Full' })).toContain("Expected `durability` to be one of 'full', 'normal', 'batched', got `\"Full\"` (string) — did you mean 'full'?");
    expect(await make({ batchSize: 0 })).toContain('Expected `batchSize` to be a positive integer, got `0` (number)');
    expect(await make({ batchSize: NaN })).toContain('Expected `batchSize` to be a positive integer, got `NaN` (number)');
    expect(await make({ batchIntervalMs: Infinity })).toContain('Expected `batchIntervalMs` to be an integer from 1 to 2147483647, got `Infinity` (number)');
    expect(await make({ retry: { retries: -1 } })).toContain('Expected `retry.retries` to be a non-negative integer, got `-1` (number)');
    expect(await make({ pipeline: 'a\u0000b' })).toContain('Expected `pipeline` to be a non-empty string without NUL characters');
    expect(await make({ runId: 7 })).toContain('Expected `runId` to be a string without NUL characters, got `7` (number)');
    expect(await make({ pool: {}, connectionString: undefined })).toContain('Expected `pool` to be a pg Pool');
  });

  it('checks unknown keys and never shows the connection string', async () => {
    expect(await make({ pipline: 'p' })).toContain('Unknown option `pipline` for PostgresStore — did you mean `pipeline`?');
    expect(await make({ retry: { retires: 1 } })).toContain('Unknown option `retry.retires` for PostgresStore — did you mean `retry.retries`?');
    const message = await argumentError(() => new PostgresStore({ connectionString: '', pipeline: 'p' }));
    expect(message).toBe('Expected `connectionString` to be a non-empty string, got a string (not shown)');
    expect(await argumentError(() => new PostgresStore({ connectionString: url } as PostgresStoreOptions))).toContain('Expected `pipeline` to be a non-empty string without NUL characters, got `undefined` (undefined)');
  });

  it('drops undefined retry settings instead of letting them override the defaults', () => {
    expect(resolveStoreOptions({ connectionString: url, pipeline: 'p', retry: { retries: undefined, initialMs: 5 } }).retry).toEqual({ initialMs: 5 });
    expect(() => checkValue('leaseMs', 0, CLAIM_OPTIONS.leaseMs)).toThrow('Expected `leaseMs` to be an integer from 1 to 2147483647, got `0` (number)');
  });
});

describe('checkpoint flags', () => {
  it('checks argv and flag values, and leaves flags it does not know to the script', async () => {
    expect(await argumentError(() => parseCheckpointFlags(['--reset-checkpoint=False']))).toBe(
      'Expected `--reset-checkpoint` to be given without a value (or as =true / =false), got `"False"` (string)',
    );
    expect(await argumentError(() => parseCheckpointFlags([1] as never))).toContain('Expected `argv` to be an array of strings, got `1` (array)');
    expect(parseCheckpointFlags(['--forse', '--force=false']).rest).toEqual(['--forse']);
  });
});
