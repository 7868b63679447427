import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { fingerprint, itemKey, MAX_ITEM_KEY_LENGTH } from '../../src/core/item-key.js';

describe('itemKey', () => {
  it('uses strings as they are, even long or empty ones', () => {
    expect(itemKey('file.wav')).toBe('file.wav');
    expect(itemKey('')).toBe('');
    const long = 'x'.repeat(MAX_ITEM_KEY_LENGTH * 10);
    expect(itemKey(long)).toBe(long);
  });

  it('keys other JSON values by canonical JSON, so strings and numbers differ', () => {
    expect(itemKey(7)).toBe('7');
    expect(itemKey('7')).toBe('7');
    expect(itemKey(null)).toBe('null');
    expect(itemKey(true)).toBe('true');
    expect(itemKey([1, 'a'])).toBe('[1,"a"]');
    expect(itemKey({ id: 7, lang: 'en' })).toBe('{"id":7,"lang":"en"}');
  });

  it('sorts object keys at every level, but keeps array order', () => {
    const a = itemKey({ b: { y: 1, x: [{ d: 1, c: 2 }] }, a: 1 });
    const b = itemKey({ a: 1, b: { x: [{ c: 2, d: 1 }], y: 1 } });
    expect(a).toBe(b);
    expect(a).toBe('{"a":1,"b":{"x":[{"c":2,"d":1}],"y":1}}');
    expect(itemKey([1, 2])).not.toBe(itemKey([2, 1]));
  });

  it('keeps __proto__ and constructor as ordinary keys', () => {
    const item = JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}') as unknown;
    expect(itemKey(item)).toBe('{"__proto__":{"x":1},"constructor":2}');
  });

  it('hashes canonical JSON longer than the limit, stably and by content', () => {
    const short = { text: 'y'.repeat(MAX_ITEM_KEY_LENGTH - 20) };
    expect(itemKey(short)).toBe(JSON.stringify(short));
    const big = { text: 'y'.repeat(1000), id: 1 };
    const key = itemKey(big);
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(itemKey({ id: 1, text: 'y'.repeat(1000) })).toBe(key);
    expect(itemKey({ id: 2, text: 'y'.repeat(1000) })).not.toBe(key);
  });

  it.each([
    ['a function', () => 1, /item is a function/],
    ['a BigInt', 10n, /item is a bigint/],
    ['NaN', Number.NaN, /item is NaN/],
    ['Infinity', Number.POSITIVE_INFINITY, /item is Infinity/],
    ['undefined', undefined, /item is a undefined/],
    ['a symbol', Symbol('s'), /item is a symbol/],
    ['a Date', new Date(0), /item is a Date, not a plain object \(pass date.toISOString\(\) instead\)/],
    ['a Map', new Map([[1, 2]]), /item is a Map, not a plain object/],
    ['a nested function', { id: 1, run: { fn: () => 1 } }, /item\.run\.fn is a function/],
    ['a value inside an array', [1, 2, Number.NaN], /item\[2\] is NaN/],
  ])('refuses %s with a clear error', (_name, value, message) => {
    let error: unknown;
    try {
      itemKey(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CheckpointArgumentError);
    expect((error as CheckpointArgumentError).code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('`itemKey` option');
  });

  it('refuses cycles instead of overflowing the stack', () => {
    const cycle: Record<string, unknown> = { id: 1 };
    cycle['self'] = cycle;
    expect(() => itemKey(cycle)).toThrow(/item\.self refers back to itself \(a cycle\)/);
    const list: unknown[] = [];
    list.push({ back: list });
    expect(() => itemKey(list)).toThrow(/item\[0\]\.back refers back to itself/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { a: 1 };
    expect(itemKey({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}');
  });
});

describe('fingerprint', () => {
  it('is the SHA-256 of the canonical JSON, independent of key order', () => {
    expect(fingerprint({ model: 'x', n: 1 })).toBe(fingerprint({ n: 1, model: 'x' }));
    expect(fingerprint({ model: 'x' })).not.toBe(fingerprint({ model: 'y' }));
    expect(fingerprint({})).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('the itemKey option', () => {
  it('accepts numeric ids (keyed by their decimal string) and refuses what is neither string nor finite number', async () => {
    const { CheckpointManager, MemoryStore, CheckpointArgumentError } = await import('../../src/index.js');
    const cp = await CheckpointManager.open({ store: new MemoryStore(), itemKey: (doc: { id: unknown }) => doc.id as number });
    await cp.markItemCompleted('s', { id: 5 });
    expect(cp.isItemCompleted('s', { id: 5 })).toBe(true);
    expect(cp.keyOf({ id: 5 })).toBe('5');
    expect(cp.isItemCompleted('s', { id: '5' as unknown as number })).toBe(true);
    for (const id of [Number.NaN, Infinity, undefined, { nested: 1 }]) {
      expect(() => cp.keyOf({ id })).toThrow(CheckpointArgumentError);
    }
    await cp.close();
  });
});
