import { itemKey } from '../core/item-key.js';
import type { Suite } from './harness.js';

/** Marks `items` in waves of concurrent marks, as a runner with some concurrency would. */
async function markAll(items: readonly unknown[], mark: (item: unknown, index: number) => Promise<void>): Promise<void> {
  const wave = 250;
  for (let start = 0; start < items.length; start += wave) {
    await Promise.all(items.slice(start, start + wave).map((item, i) => mark(item, start + i)));
  }
}

/** Names that trip naive code: prototype members, blanks, unicode, control characters. */
export const ODD_NAMES: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '\t\n',
  'naïve café',
  '日本語のファイル.wav',
  '👩‍💻🚀',
  'e\u0301',
  'quote"and\\backslash',
  "single'quote",
  'colon: yaml-ish',
  '- dash',
  '# hash',
  'null',
  'true',
  '1e3',
  '\u0000nul',
  '\u2028line separator',
];

/** A volume of items, and keys and names that are easy to get wrong. */
export function describeVolumeAndKeys(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('volume', () => {
    test(`${suite.volume} items survive a reopen`, async (fixture) => {
      const count = suite.volume;
      const items = Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `file-${i}.wav` : { id: i, part: i % 7 }));
      let cp = await fixture.open();
      await markAll(items, async (item, i) => {
        if (i % 100 === 3) await cp.markItemFailed('s', item, new Error(`failed ${i}`));
        else if (i % 100 === 5) await cp.markItemInProgress('s', item);
        else await cp.markItemCompleted('s', item, i % 100 === 7 ? { i } : undefined);
      });
      cp = await fixture.reopen(cp);
      const counts = cp.getProgressSummary().steps['s'];
      const hundreds = Math.ceil((count - 3) / 100);
      const interrupted = Math.ceil((count - 5) / 100);
      expect(counts?.failed).toBe(hundreds);
      expect(counts?.interrupted).toBe(interrupted);
      expect(counts?.completed).toBe(count - hundreds - interrupted);
      const wrong = items.filter((item, i) => {
        const expected = i % 100 === 3 ? 'failed' : i % 100 === 5 ? 'pending' : 'completed';
        return cp.getItemStatus('s', item) !== expected;
      });
      expect(wrong).toEqual([]);
      expect(cp.getItem('s', items[7]).result).toEqual({ i: 7 });
      const more = [...items, 'brand-new'];
      expect(cp.pendingItems('s', more).length).toBe(hundreds + interrupted + 1);
      await markAll(cp.pendingItems('s', more), (item) => cp.markItemCompleted('s', item));
      cp = await fixture.reopen(cp);
      expect(cp.pendingItems('s', more)).toEqual([]);
    });
  });

  runner.describe('odd keys and names', () => {
    test('odd item keys are distinct items and survive a reopen', async (fixture) => {
      let cp = await fixture.open();
      for (const key of ODD_NAMES) await cp.markItemCompleted('s', key);
      await cp.markItemFailed('s', '__proto__-failed', new Error('x'));
      cp = await fixture.reopen(cp);
      for (const key of ODD_NAMES) expect(`${JSON.stringify(key)}:${cp.getItemStatus('s', key)}`).toBe(`${JSON.stringify(key)}:completed`);
      expect(cp.getProgressSummary().steps['s']?.completed).toBe(ODD_NAMES.length);
      expect(cp.getItemStatus('s', '\u00e9')).toBe('pending');
      expect(cp.getItemStatus('s', '__proto__-failed')).toBe('failed');
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    });

    test('odd step names, stage names, counters and context keys survive a reopen', async (fixture) => {
      let cp = await fixture.open();
      const named = ODD_NAMES.filter((name) => name !== '');
      for (const name of named) {
        await cp.markItemCompleted(name, 'item');
        await cp.markStageCompleted(name, { name });
        await cp.increment(name, 2);
      }
      const context = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "toString": "x"}') as Record<string, never>;
      await cp.setContext(context);
      cp = await fixture.reopen(cp);
      expect(cp.steps).toEqual(named);
      expect(cp.getProgressSummary().stages).toEqual(named);
      for (const name of named) {
        expect(`${JSON.stringify(name)}:${String(cp.isItemCompleted(name, 'item'))}`).toBe(`${JSON.stringify(name)}:true`);
        expect(cp.getStageResult(name)).toEqual({ name });
        expect(`${JSON.stringify(name)}:${cp.getCounter(name)}`).toBe(`${JSON.stringify(name)}:2`);
      }
      expect(JSON.stringify(cp.context)).toBe('{"__proto__":{"polluted":true},"constructor":{"prototype":1},"toString":"x"}');
      expect(({} as Record<string, unknown>)['polluted']).toBe(undefined);
    });

    test('long keys: long strings stay themselves, long object items are hashed', async (fixture) => {
      let cp = await fixture.open();
      const longString = `${'x'.repeat(20_000)}-end`;
      const bigItem = { text: 'y'.repeat(5_000), id: 1 };
      await cp.markItemCompleted('s', longString);
      await cp.markItemCompleted('s', bigItem);
      expect(itemKey(bigItem)).toMatch(/^sha256:[0-9a-f]{64}$/);
      cp = await fixture.reopen(cp);
      expect(cp.isItemCompleted('s', longString)).toBe(true);
      expect(cp.isItemCompleted('s', `${'x'.repeat(20_000)}-End`)).toBe(false);
      expect(cp.isItemCompleted('s', { id: 1, text: 'y'.repeat(5_000) })).toBe(true);
      expect(cp.isItemCompleted('s', { id: 2, text: 'y'.repeat(5_000) })).toBe(false);
    });

    test('results, errors and context keep unicode and special values exactly', async (fixture) => {
      let cp = await fixture.open();
      const result = { text: '日本語 👩‍💻 "quoted" \\ \u0000', numbers: [0, -0.5, 1e21, 123456789012], empty: {}, list: [], no: null, flag: false };
      await cp.markItemCompleted('s', 'a', result);
      await cp.markItemFailed('s', 'b', new Error('multi\nline: message — ünïcode'));
      await cp.setContext({ path: 'C:\\data\\in.wav', emoji: '🎧' });
      cp = await fixture.reopen(cp);
      expect(cp.getItem('s', 'a').result).toEqual(result);
      expect(cp.getItem('s', 'b').error?.message).toBe('multi\nline: message — ünïcode');
      expect(cp.context).toEqual({ path: 'C:\\data\\in.wav', emoji: '🎧' });
    });
  });
}
