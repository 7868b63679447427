import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager, CheckpointMismatchError } from '../../src/index.js';
import { configDifferences, describeConfigChange } from '../../src/manager/config-diff.js';
import { open, tempDir } from '../stores/helpers.js';

const quiet = { warn: () => {}, error: () => {} };
const fixture = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'legacy', name);

/** Opens `path` with `config` expecting a rejection, and returns the error. */
async function rejection(path: string, config: unknown): Promise<CheckpointMismatchError> {
  const error = await CheckpointManager.open({ path, config: config as never, logger: quiet }).then(
    (cp) => cp.close().then(() => undefined),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CheckpointMismatchError);
  return error as CheckpointMismatchError;
}

describe('cp.config', () => {
  it('is the config saved with the checkpoint, also after a reopen without one', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const config = { model: 'small', limits: { batch: 10 } };
    const first = await CheckpointManager.open({ path, config, logger: quiet });
    expect(first.config).toEqual(config);
    await first.markItemCompleted('s', 'a');
    await first.close();
    const second = await open({ path });
    expect(second.config).toEqual(config);
  });

  it('is undefined when no config was ever given, and the new config after onConfigChange: accept', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const first = await CheckpointManager.open({ path, logger: quiet });
    expect(first.config).toBeUndefined();
    await first.close();
    const second = await CheckpointManager.open({ path, config: { model: 'a' }, logger: quiet });
    await second.close();
    const third = await open({ path, config: { model: 'b' }, onConfigChange: 'accept' });
    expect(third.config).toEqual({ model: 'b' });
  });

  it("is a migrated legacy checkpoint's config_snapshot", async () => {
    const path = join(tempDir(), 'pipeline_checkpoint.json');
    copyFileSync(fixture('seed-001-stages.json'), path);
    const cp = await open({ path });
    expect(cp.config).toEqual((JSON.parse(readFileSync(fixture('seed-001-stages.json'), 'utf8')) as { config_snapshot: unknown }).config_snapshot);
    expect(cp.config).toMatchObject({ kit_version: '107.3.0' });
  });
});

describe("onConfigChange: 'reject' names what changed", () => {
  it('names each differing key with its old and new value, nested keys by dotted path', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const before = { model: 'small', limits: { batch: 10, retries: 3 }, unchanged: [1, 2] };
    await (await CheckpointManager.open({ path, config: before, logger: quiet })).close();
    const error = await rejection(path, { model: 'large', limits: { batch: 20, retries: 3 }, unchanged: [1, 2], added: true });
    expect(error.kind).toBe('config');
    expect(error.message).toContain('model: "small" → "large"');
    expect(error.message).toContain('limits.batch: 10 → 20');
    expect(error.message).toContain('added: (absent) → true');
    expect(error.message).not.toContain('retries');
    expect(error.message).not.toContain('unchanged');
    expect(error.message).not.toContain('sha256');
    expect(error.message).toContain("onConfigChange: 'accept'");
  });

  it('shortens long values and lists at most five keys, then "and N more"', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const before = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`key${i}`, i]));
    const prompt = 'Summarise the following document in three sentences, keeping every number it states.';
    await (await CheckpointManager.open({ path, config: { prompt: 'short', ...before }, logger: quiet })).close();
    const after = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`key${i}`, i + 100]));
    const error = await rejection(path, { prompt, ...after });
    expect(error.message).toContain('prompt: "short" → "Summarise the following document in th…, key0: 0 → 100');
    expect(error.message).not.toContain('three sentences');
    // prompt, key0…key3 shown: key4…key7 are the 4 more.
    expect(error.message).toContain('key3: 3 → 103, and 4 more');
    expect(error.message).not.toContain('key4');
  });

  it('key order does not count as a change, and a missing saved config falls back to the fingerprints', () => {
    expect(configDifferences({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toEqual([]);
    expect(configDifferences({ a: [1, 2] }, { a: [2, 1] })).toEqual([{ path: 'a', before: [1, 2], after: [2, 1] }]);
    expect(configDifferences({ 'x.y': 1 }, { 'x.y': 2 })).toEqual([{ path: '["x.y"]', before: 1, after: 2 }]);
    expect(describeConfigChange('old', { a: 1 })).toBe('(the whole config): "old" → {"a":1}');
    expect(describeConfigChange(undefined, { a: 1 })).toBeUndefined();
  });
});
