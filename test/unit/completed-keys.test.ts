import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompletedKeys } from '../../src/core/completed-keys.js';

type Operation = { op: 'load'; keys: string[] } | { op: 'add' | 'delete' | 'has'; key: string } | { op: 'clear' };

// A small alphabet of keys, so that operations often meet the same key (loaded, added, removed).
const key = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'doc/0000001.json', 'doc/0000002.json', 'ünïcødé', '😀', '', '__proto__', 'b\u0000'),
  fc.string({ maxLength: 6 }),
);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constant('load' as const), keys: fc.array(key, { maxLength: 40 }) }),
  fc.record({ op: fc.constantFrom('add' as const, 'delete' as const, 'has' as const), key }),
  fc.constant({ op: 'clear' as const }),
);

describe('CompletedKeys', () => {
  it('behaves like a Set<string> under any sequence of loads, adds, deletes and clears', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
        const keys = new CompletedKeys();
        let model = new Set<string>();
        for (const step of operations) {
          switch (step.op) {
            case 'load':
              keys.load(step.keys);
              model = new Set(step.keys);
              break;
            case 'add':
              keys.add(step.key);
              model.add(step.key);
              break;
            case 'delete':
              expect(keys.delete(step.key)).toBe(model.delete(step.key));
              break;
            case 'has':
              expect(keys.has(step.key)).toBe(model.has(step.key));
              break;
            case 'clear':
              keys.clear();
              model.clear();
              break;
          }
          expect(keys.size).toBe(model.size);
        }
        // The same keys in the same order as the Set gives them.
        expect(keys.toArray()).toEqual([...model]);
        expect([...keys]).toEqual(keys.toArray());
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the keys in the order they were loaded or completed, each once, like a Set', () => {
    const keys = new CompletedKeys();
    keys.load(['c', 'a', 'c', 'b', 'a']);
    expect(keys.size).toBe(3);
    keys.add('z');
    keys.add('a');
    keys.delete('c');
    expect(keys.toArray()).toEqual(['a', 'b', 'z']);
    keys.add('c');
    expect(keys.toArray()).toEqual(['a', 'b', 'z', 'c']);
  });

  it('finds every one of 200,000 loaded keys, and none of 200,000 others', () => {
    const loaded = Array.from({ length: 200_000 }, (_, i) => `doc/${String(i).padStart(7, '0')}.json`);
    const keys = new CompletedKeys();
    keys.load(loaded);
    expect(keys.size).toBe(loaded.length);
    // Fresh strings, not the loaded ones: lookups compare text, not identity.
    expect(loaded.every((k) => keys.has(` ${k}`.slice(1)))).toBe(true);
    expect(loaded.some((k) => keys.has(`${k}x`) || keys.has(k.replace('doc', 'dob')))).toBe(false);
  });


  it('grows through 100,000 adds with deletes between them and still agrees with a Set', () => {
    const keys = new CompletedKeys();
    const model = new Set<string>();
    keys.load(['seed-1', 'seed-2']);
    model.add('seed-1').add('seed-2');
    for (let i = 0; i < 100_000; i++) {
      const key = `item/${i}`;
      keys.add(key);
      model.add(key);
      if (i % 3 === 0) {
        const gone = `item/${i >> 1}`;
        expect(keys.delete(gone)).toBe(model.delete(gone));
      }
    }
    expect(keys.size).toBe(model.size);
    expect(keys.toArray()).toEqual([...model]);
    for (let i = 0; i < 100_000; i += 7) expect(keys.has(`item/${i}`)).toBe(model.has(`item/${i}`));
  });
});
