import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError } from '../../src/core/errors.js';
import { assertJson, canonicalJson, findNonJson, isJsonObject, MAX_JSON_DEPTH } from '../../src/core/json.js';

describe('findNonJson', () => {
  it('accepts everything JSON.parse can return', () => {
    const value = JSON.parse('{"a":[1,"x",null,true,{"b":-0.5}],"c":{},"d":[]}') as unknown;
    expect(findNonJson(value, 'value')).toBe(undefined);
    expect(findNonJson(Object.create(null), 'value')).toBe(undefined);
  });

  it('names the path of the first problem', () => {
    expect(findNonJson({ a: [{ b: undefined }] }, 'result')).toBe('result.a[0].b is a undefined, which JSON cannot represent');
    expect(findNonJson({ big: 1n }, 'config')).toBe('config.big is a bigint, which JSON cannot represent');
    expect(findNonJson({ when: new Date(0) }, 'context')).toMatch(/^context\.when is a Date, not a plain object/);
    expect(findNonJson(new Set([1]), 'x')).toBe('x is a Set, not a plain object');
    expect(findNonJson(-Infinity, 'x')).toBe('x is -Infinity, which JSON cannot represent');
  });

  it('refuses values nested deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = [deep];
    expect(findNonJson(deep, 'x')).toMatch(/nested deeper than 500 levels/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) ok = { k: ok };
    expect(findNonJson(ok, 'x')).toBe(undefined);
  });
});

describe('assertJson', () => {
  it('throws a CheckpointArgumentError that says checkpoints hold JSON only', () => {
    expect(() => assertJson({ f: () => 1 }, 'result')).toThrow(CheckpointArgumentError);
    expect(() => assertJson({ f: () => 1 }, 'result')).toThrow('result.f is a function, which JSON cannot represent; checkpoints hold JSON only');
    expect(() => assertJson({ ok: [1] }, 'result')).not.toThrow();
  });
});

describe('isJsonObject', () => {
  it('is true for objects only, not arrays or null', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject('x')).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and matches JSON.stringify otherwise', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }] })).toBe('{"a":[{"c":null,"d":"x"}],"b":1}');
    expect(canonicalJson('quote"d')).toBe(JSON.stringify('quote"d'));
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson(1e21)).toBe('1e+21');
  });

  it('round-trips through JSON.parse to an equal value', () => {
    const value = { z: { y: [1, { x: 'é' }] }, a: true, m: null };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});
