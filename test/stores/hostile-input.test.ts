import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointCorruptError, CheckpointError, CheckpointStoreError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { CheckpointOptions } from '../../src/manager/options.js';
import { assertNoPollution } from '../fuzz/pollution.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
function fresh(): string {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-hostile-'));
  directories.push(directory);
  return directory;
}
const quiet = { warn: () => {}, error: () => {} };
const open = (path: string, extra: Partial<CheckpointOptions> = {}): Promise<CheckpointManager> => CheckpointManager.open({ path, logger: quiet, ...extra });

async function openError(path: string, extra: Partial<CheckpointOptions> = {}): Promise<unknown> {
  try {
    const cp = await open(path, extra);
    await cp.close();
  } catch (error) {
    return error;
  }
  return undefined;
}

const header = (format: 'json' | 'yaml', body: string): string =>
  format === 'json'
    ? `{"version":1,"metadata":{"runId":"r","createdAt":"2025-01-01T00:00:00.000Z","updatedAt":"2025-01-01T00:00:00.000Z"},"steps":{},"stages":[],"counters":{},"errors":[],"context":${body}}`
    : `version: 1\nmetadata:\n  runId: r\n  createdAt: "2025-01-01T00:00:00.000Z"\n  updatedAt: "2025-01-01T00:00:00.000Z"\nsteps: {}\nstages: []\ncounters: {}\nerrors: []\ncontext: ${body}\n`;

describe('hostile checkpoint files', () => {
  it('a YAML alias bomb is refused quickly as corrupt, and the file is left as it was', async () => {
    const path = join(fresh(), 'checkpoint.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    const bomb = `version: 1\n${levels.join('\n')}\n`;
    writeFileSync(path, bomb);
    const started = performance.now();
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/checkpoint\.yaml/);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(readFileSync(path, 'utf8')).toBe(bomb);
  });

  for (const format of ['json', 'yaml'] as const) {
    it(`${format}: context nested 100,000 levels deep is reported as corrupt, not a stack overflow`, async () => {
      const path = join(fresh(), `checkpoint.${format}`);
      const depth = 100_000;
      writeFileSync(path, header(format, `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));
      const error = await openError(path);
      expect(error).toBeInstanceOf(CheckpointCorruptError);
    });

    it(`${format}: __proto__ and constructor keys in the file stay plain data`, async () => {
      const path = join(fresh(), `checkpoint.${format}`);
      const body = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
      const text = format === 'json'
        ? header('json', body).replace('"steps":{}', '"steps":{"__proto__":{"completedItems":["a"]},"constructor":{"completedItems":["b"]}}').replace('"counters":{}', '"counters":{"__proto__":1}')
        : readFileSync(new URL('../fixtures/corrupt/proto-pollution.yaml', import.meta.url), 'utf8');
      writeFileSync(path, text);
      const cp = await open(path);
      assertNoPollution();
      expect(cp.isItemCompleted('__proto__', 'a')).toBe(true);
      expect(cp.isItemCompleted('constructor', 'b')).toBe(true);
      expect(cp.getCounter('__proto__')).toBe(1);
      expect(Object.getPrototypeOf(cp.context)).toBe(Object.prototype);
      expect(Object.keys(cp.context)).toEqual(['__proto__', 'constructor']);
      await cp.close();
      assertNoPollution();
    });

    it(`${format}: a 5 MB string and a 2 MB item key survive a round trip`, async () => {
      const path = join(fresh(), `checkpoint.${format}`);
      const big = 'ä'.repeat(5_000_000 / 2);
      let cp = await open(path);
      await cp.setContext({ big });
      await cp.markItemCompleted('s', 'k'.repeat(2_000_000));
      await cp.close();
      cp = await open(path);
      expect(cp.context.big).toBe(big);
      expect(cp.isItemCompleted('s', 'k'.repeat(2_000_000))).toBe(true);
      await cp.close();
      // String items are their own keys (only non-string items are hashed when long): both are in the file.
      expect(readFileSync(path).length).toBeGreaterThan(7_000_000);
    });

    it(`${format}: bytes that are not UTF-8 make the snapshot corrupt, and the backup is used`, async () => {
      const path = join(fresh(), `checkpoint.${format}`);
      let cp = await open(path, { backups: 1 });
      await cp.markItemCompleted('s', 'saved');
      await cp.close();
      cp = await open(path, { backups: 1 });
      await cp.markItemCompleted('s', 'naïve');
      await cp.close();
      const bytes = readFileSync(path);
      const at = bytes.indexOf(Buffer.from('naïve'));
      expect(at).toBeGreaterThan(0);
      bytes[at + 2] = 0xff; // Half of "ï" becomes a byte no UTF-8 text has.
      writeFileSync(path, bytes);
      const warnings: string[] = [];
      cp = await open(path, { backups: 1, logger: { warn: (message: string) => warnings.push(message), error: () => {} } });
      // Not a silent replacement character in a key: the damaged file is set aside, the backup loaded.
      expect(warnings.join('\n')).toMatch(/UTF-8[\s\S]*loaded the backup/);
      expect(cp.isItemCompleted('s', 'saved')).toBe(true);
      expect(cp.isItemCompleted('s', 'na\uFFFDve')).toBe(false);
      await cp.close();
    });
  }

  it('an over-deep context passed to setContext is an argument error, and nothing saved is lost', async () => {
    const path = join(fresh(), 'checkpoint.json');
    const cp = await open(path);
    await cp.markItemCompleted('s', 'kept');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    await expect(cp.setContext(deep as never)).rejects.toBeInstanceOf(CheckpointArgumentError);
    await cp.close();
    const again = await open(path);
    expect(again.isItemCompleted('s', 'kept')).toBe(true);
    await again.close();
  });
});

describe('hostile checkpoint paths', () => {
  it('a path that is a directory gives a CheckpointStoreError that says so', async () => {
    const path = join(fresh(), 'checkpoint.json');
    mkdirSync(path);
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/is a directory/);
  });

  it('a path below a regular file (ENOTDIR) gives a CheckpointStoreError naming the path', async () => {
    const file = join(fresh(), 'not-a-directory');
    writeFileSync(file, 'x');
    const error = await openError(join(file, 'checkpoint.json'));
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/not-a-directory/);
  });

  it('a symlinked checkpoint is followed: the target is updated, the link kept, the backups are real copies', async () => {
    const directory = fresh();
    const target = join(directory, 'real.json');
    const path = join(directory, 'link.json');
    let cp = await open(target, { backups: 2 });
    await cp.markItemCompleted('s', 'first');
    await cp.close();
    symlinkSync(target, path);
    for (const item of ['second', 'third']) {
      cp = await open(path, { backups: 2 });
      await cp.markItemCompleted('s', item);
      await cp.close();
    }
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path)).toBe(target);
    expect(readFileSync(target, 'utf8')).toMatch(/third/);
    // A backup that is itself a link to the live file would protect nothing.
    expect(lstatSync(`${path}.bak`).isSymbolicLink()).toBe(false);
    expect(readFileSync(`${path}.bak`, 'utf8')).not.toMatch(/third/);
    cp = await open(path);
    for (const item of ['first', 'second', 'third']) expect(cp.isItemCompleted('s', item)).toBe(true);
    await cp.close();
  });

  it('every failure above is a CheckpointError with a code', async () => {
    const path = join(fresh(), 'checkpoint.json');
    mkdirSync(path);
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('CHECKPOINT_STORE');
  });
});
