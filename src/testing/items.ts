import type { StepProgress } from '../manager/progress-summary.js';
import { codeOf, rejection, type Suite } from './harness.js';

/** The counts of a step's progress, without the rate and ETA (which depend on the clock). */
function countsOf(step: StepProgress | undefined): Partial<StepProgress> | undefined {
  if (!step) return undefined;
  const { total, completed, failed, inProgress, pending, interrupted, handedBack, deadLetter, percent } = step;
  return { total, completed, failed, inProgress, pending, interrupted, handedBack, deadLetter, percent };
}

/** Marking items and reading their status, within one open checkpoint and across a reopen. */
export function describeItems(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('items', () => {
    test('a new checkpoint has every item pending', async (fixture) => {
      const cp = await fixture.open();
      expect(cp.getItemStatus('enrich', 'a')).toBe('pending');
      expect(cp.isItemCompleted('enrich', 'a')).toBe(false);
      expect(cp.pendingItems('enrich', ['a', 'b'])).toEqual(['a', 'b']);
      expect(cp.steps).toEqual([]);
      expect(cp.runId).toMatch(/\S/);
    });

    test('marks move an item through in_progress, completed and failed', async (fixture) => {
      const cp = await fixture.open();
      await cp.markItemInProgress('enrich', 'a');
      expect(cp.getItemStatus('enrich', 'a')).toBe('in_progress');
      await cp.markItemCompleted('enrich', 'a');
      expect(cp.getItemStatus('enrich', 'a')).toBe('completed');
      expect(cp.isItemCompleted('enrich', 'a')).toBe(true);
      await cp.markItemInProgress('enrich', 'b');
      await cp.markItemFailed('enrich', 'b', new TypeError('boom'));
      expect(cp.getItemStatus('enrich', 'b')).toBe('failed');
      const failed = cp.getItem('enrich', 'b');
      expect(failed.attempts).toBe(1);
      expect(failed.error?.message).toBe('boom');
      expect(failed.error?.name).toBe('TypeError');
    });

    test('all of it survives a reopen', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('enrich', 'a');
      await cp.markItemCompleted('enrich', 'c', { score: 0.5, tags: ['x'] });
      await cp.markItemInProgress('enrich', 'b');
      await cp.markItemFailed('enrich', 'b', new RangeError('out of range'));
      await cp.markItemCompleted('train', 'a');
      const runId = cp.runId;
      cp = await fixture.reopen(cp);
      expect(cp.runId).toBe(runId);
      expect(cp.getItemStatus('enrich', 'a')).toBe('completed');
      expect(cp.getItem('enrich', 'c').result).toEqual({ score: 0.5, tags: ['x'] });
      expect(cp.getItemStatus('enrich', 'b')).toBe('failed');
      expect(cp.getItem('enrich', 'b').error?.message).toBe('out of range');
      expect(cp.getItem('enrich', 'b').attempts).toBe(1);
      expect(cp.getItemStatus('train', 'a')).toBe('completed');
      expect(cp.getItemStatus('train', 'b')).toBe('pending');
      expect(cp.steps).toEqual(['enrich', 'train']);
    });

    test('pendingItems keeps input order, skips completed items and retries failed ones', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', 2);
      await cp.markItemFailed('s', 4, new Error('x'));
      expect(cp.pendingItems('s', [1, 2, 3, 4, 5])).toEqual([1, 3, 4, 5]);
      cp = await fixture.reopen(cp, { retryFailed: false });
      expect(cp.pendingItems('s', [5, 4, 3, 2, 1])).toEqual([5, 3, 1]);
      expect(cp.isItemPending('s', 4)).toBe(false);
    });

    test('object items are one item whatever their key order', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', { id: 1, lang: 'en', nested: { b: 2, a: 1 } });
      cp = await fixture.reopen(cp);
      expect(cp.isItemCompleted('s', { nested: { a: 1, b: 2 }, lang: 'en', id: 1 })).toBe(true);
      expect(cp.isItemCompleted('s', { id: 1, lang: 'fr', nested: { a: 1, b: 2 } })).toBe(false);
      expect(cp.isItemCompleted('s', '1')).toBe(false);
      expect(cp.isItemCompleted('s', 1)).toBe(false);
    });

    test('a user itemKey decides identity', async (fixture) => {
      const options = { itemKey: (doc: { id: string }) => doc.id };
      let cp = await fixture.open(options);
      await cp.markItemCompleted('s', { id: 'doc-1', body: 'first version' });
      cp = await fixture.reopen(cp, options);
      expect(cp.isItemCompleted('s', { id: 'doc-1', body: 'edited' })).toBe(true);
      expect(cp.keyOf({ id: 'doc-2' })).toBe('doc-2');
    });

    test('completing an item twice changes nothing; attempts count every start', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemInProgress('s', 'a');
      await cp.markItemFailed('s', 'a', 'flaky');
      await cp.markItemInProgress('s', 'a');
      await cp.markItemCompleted('s', 'a');
      await cp.markItemCompleted('s', 'a');
      expect(cp.getItem('s', 'a').attempts).toBe(2);
      cp = await fixture.reopen(cp);
      expect(cp.getItem('s', 'a').status).toBe('completed');
      expect(cp.getItem('s', 'a').attempts).toBe(2);
      expect(cp.getProgressSummary().steps['s']?.completed).toBe(1);
    });

    test('a failed item completed later is completed, and one completed then failed is failed', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemFailed('s', 'a', new Error('first try'));
      await cp.markItemCompleted('s', 'a');
      await cp.markItemCompleted('s', 'b');
      await cp.markItemFailed('s', 'b', new Error('re-run failed'));
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('s', 'a')).toBe('completed');
      expect(cp.getItemStatus('s', 'b')).toBe('failed');
      expect(countsOf(cp.getProgressSummary().steps['s'])).toEqual({ total: null, completed: 1, failed: 1, inProgress: 0, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0, percent: null });
    });

    test('a step\'s total and the items retry-failed handed back are kept across a reopen', async (fixture) => {
      let cp = await fixture.open();
      await cp.setStepTotal('s', 5);
      await cp.markItemCompleted('s', 'a');
      await cp.markItemFailed('s', 'b', new Error('b broke'));
      await cp.retryFailedItems('s');
      expect(countsOf(cp.getProgressSummary().steps['s'])).toEqual({ total: 5, completed: 1, failed: 0, inProgress: 0, pending: 4, interrupted: 0, handedBack: 1, deadLetter: 0, percent: 20 });
      cp = await fixture.reopen(cp);
      expect(cp.getStepTotal('s')).toBe(5);
      expect(cp.getItemStatus('s', 'b')).toBe('pending');
      const handedBack = cp.getItem('s', 'b');
      expect([handedBack.status, handedBack.attempts, handedBack.error?.message]).toEqual(['pending', 0, 'b broke']);
      expect(countsOf(cp.getProgressSummary().steps['s'])).toEqual({ total: 5, completed: 1, failed: 0, inProgress: 0, pending: 4, interrupted: 0, handedBack: 1, deadLetter: 0, percent: 20 });
      await cp.setStepTotal('s', 6);
      cp = await fixture.reopen(cp);
      expect(cp.getStepTotal('s')).toBe(6);
    });

    test('the progress summary counts items per step', async (fixture) => {
      let cp = await fixture.open({ pipeline: 'summary' });
      for (const item of ['a', 'b', 'c']) await cp.markItemCompleted('one', item);
      await cp.markItemFailed('one', 'd', new Error('no'));
      await cp.markItemInProgress('two', 'a');
      const summary = cp.getProgressSummary();
      expect(summary.pipeline).toBe('summary');
      expect(countsOf(summary.steps['one'])).toEqual({ total: null, completed: 3, failed: 1, inProgress: 0, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0, percent: null });
      expect(summary.steps['two']?.inProgress).toBe(1);
      expect(Date.parse(summary.createdAt) <= Date.parse(summary.updatedAt)).toBe(true);
      cp = await fixture.reopen(cp);
      expect(countsOf(cp.getProgressSummary().steps['one'])).toEqual({ total: null, completed: 3, failed: 1, inProgress: 0, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0, percent: null });
    });

    test('the error log keeps the last maxErrors failures, across a reopen', async (fixture) => {
      let cp = await fixture.open({ maxErrors: 3 });
      for (let i = 0; i < 5; i++) await cp.markItemFailed('s', `item-${i}`, new Error(`failure ${i}`));
      expect(cp.errors.map((entry) => entry.message)).toEqual(['failure 2', 'failure 3', 'failure 4']);
      cp = await fixture.reopen(cp, { maxErrors: 3 });
      expect(cp.errors.map((entry) => entry.key)).toEqual(['item-2', 'item-3', 'item-4']);
      expect(cp.errors[0]?.step).toBe('s');
    });

    test('marks after close are refused with CheckpointClosedError', async (fixture) => {
      const cp = await fixture.open();
      await cp.close();
      expect(codeOf(await rejection(cp.markItemCompleted('s', 'a')))).toBe('CHECKPOINT_CLOSED');
      expect(codeOf(await rejection(cp.setContext({})))).toBe('CHECKPOINT_CLOSED');
    });
  });
}
