import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import { open, tempDir } from './helpers.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'corrupt', name), 'utf8');

async function openError(path: string): Promise<unknown> {
  return open({ path, backups: 0 }).then(() => undefined, (error: unknown) => error);
}

describe('YAML is parsed safely', () => {
  it('an alias bomb is refused quickly, not expanded', async () => {
    const path = join(tempDir(), 'state.yaml');
    writeFileSync(path, fixture('alias-bomb.yaml'));
    const started = Date.now();
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/not valid YAML: .*alias/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('custom tags such as !!js/function are refused, and nothing runs', async () => {
    const path = join(tempDir(), 'state.yaml');
    writeFileSync(path, fixture('js-function-tag.yaml'));
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((globalThis as Record<string, unknown>)['pwned']).toBe(undefined);
  });

  it('__proto__ and constructor keys are plain keys and pollute nothing', async () => {
    const path = join(tempDir(), 'state.yaml');
    writeFileSync(path, fixture('proto-pollution.yaml'));
    const cp = await open({ path });
    expect(({} as Record<string, unknown>)['polluted']).toBe(undefined);
    expect(({} as Record<string, unknown>)['completedItems']).toBe(undefined);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(cp.isItemCompleted('__proto__', 'a')).toBe(true);
    expect(cp.isItemCompleted('constructor', 'b')).toBe(true);
    expect(cp.getCounter('__proto__')).toBe(1);
    expect(JSON.stringify(cp.context)).toBe('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    await cp.markItemCompleted('__proto__', 'c');
    await cp.close();
    const again = await open({ path });
    expect(again.pendingItems('__proto__', ['a', 'c', 'd'])).toEqual(['d']);
    expect(({} as Record<string, unknown>)['polluted']).toBe(undefined);
  });

  it('duplicate keys are refused rather than silently merged', async () => {
    const path = join(tempDir(), 'state.yaml');
    writeFileSync(path, fixture('proto-pollution.yaml').replace('counters:\n  __proto__: 1', 'counters:\n  a: 1\n  a: 2'));
    expect(await openError(path)).toBeInstanceOf(CheckpointCorruptError);
  });

  it('YAML-looking values round-trip as strings', async () => {
    const path = join(tempDir(), 'state.yaml');
    let cp = await open({ path });
    const tricky = ['yes', 'no', 'on', 'off', '~', 'null', '0x1F', '1e3', '2025-01-01', '*alias', '&anchor', '!tag', '? key', '%directive', '@at', '`tick`'];
    for (const item of tricky) await cp.markItemCompleted('s', item);
    await cp.setContext({ values: tricky });
    await cp.close();
    cp = await open({ path });
    expect(cp.pendingItems('s', tricky)).toEqual([]);
    expect(cp.context).toEqual({ values: tricky });
  });
});
