import type { Suite } from './harness.js';

/** Resets, retries, dead letters, and items a crashed run left in progress. */
export function describeResets(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('resets, retries and dead letters', () => {
    test('resetStep forgets one step only, durably', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('a', 1);
      await cp.markItemFailed('a', 2, new Error('x'));
      await cp.markItemCompleted('b', 1);
      await cp.step('a').reset();
      expect(cp.getItemStatus('a', 1)).toBe('pending');
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('a', 1)).toBe('pending');
      expect(cp.getItemStatus('a', 2)).toBe('pending');
      expect(cp.getItemStatus('b', 1)).toBe('completed');
      await cp.markItemCompleted('a', 3);
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('a', 3)).toBe('completed');
    });

    test('resetAll forgets steps, stages, context and counters but keeps the run id and config', async (fixture) => {
      let cp = await fixture.open({ pipeline: 'p', config: { model: 'x' } });
      const runId = cp.runId;
      await cp.markItemCompleted('a', 1);
      await cp.markStageCompleted('download');
      await cp.setContext({ k: 1 });
      await cp.increment('cost', 3);
      await cp.resetAll();
      cp = await fixture.reopen(cp, { pipeline: 'p', config: { model: 'x' } });
      expect(cp.runId).toBe(runId);
      expect(cp.pipeline).toBe('p');
      expect(cp.getItemStatus('a', 1)).toBe('pending');
      expect(cp.isStageCompleted('download')).toBe(false);
      expect(cp.context).toEqual({});
      expect(cp.getCounter('cost')).toBe(0);
      expect(cp.steps).toEqual([]);
    });

    test('retryFailedItems(step) makes that step\'s failed items pending with attempts reset', async (fixture) => {
      let cp = await fixture.open({ retryFailed: false });
      await cp.markItemFailed('a', 1, new Error('x'));
      await cp.markItemFailed('b', 1, new Error('y'));
      expect(cp.pendingItems('a', [1])).toEqual([]);
      await cp.step('a').retryFailedItems();
      cp = await fixture.reopen(cp, { retryFailed: false });
      expect(cp.getItemStatus('a', 1)).toBe('pending');
      expect(cp.getItem('a', 1).attempts).toBe(0);
      expect(cp.pendingItems('a', [1])).toEqual([1]);
      expect(cp.getItemStatus('b', 1)).toBe('failed');
      await cp.retryFailedItems();
      cp = await fixture.reopen(cp, { retryFailed: false });
      expect(cp.getItemStatus('b', 1)).toBe('pending');
    });

    test('maxAttempts turns an item that keeps failing into a dead letter, counting across runs', async (fixture) => {
      let cp = await fixture.open({ maxAttempts: 2 });
      await cp.markItemInProgress('s', 'bad');
      await cp.markItemFailed('s', 'bad', new Error('first'));
      expect(cp.getItemStatus('s', 'bad')).toBe('failed');
      cp = await fixture.reopen(cp, { maxAttempts: 2 });
      expect(cp.pendingItems('s', ['bad', 'good'])).toEqual(['bad', 'good']);
      await cp.markItemInProgress('s', 'bad');
      await cp.markItemFailed('s', 'bad', new Error('second'));
      expect(cp.getItemStatus('s', 'bad')).toBe('dead_letter');
      cp = await fixture.reopen(cp, { maxAttempts: 2 });
      expect(cp.getItemStatus('s', 'bad')).toBe('dead_letter');
      expect(cp.getItem('s', 'bad').attempts).toBe(2);
      expect(cp.getItem('s', 'bad').error?.message).toBe('second');
      expect(cp.pendingItems('s', ['bad', 'good'])).toEqual(['good']);
      expect(cp.getProgressSummary().steps['s']?.deadLetter).toBe(1);
      await cp.retryFailedItems('s');
      cp = await fixture.reopen(cp, { maxAttempts: 2 });
      expect(cp.getItemStatus('s', 'bad')).toBe('pending');
      expect(cp.pendingItems('s', ['bad'])).toEqual(['bad']);
    });
  });

  runner.describe('interrupted items', () => {
    test('items left in progress are pending after a reopen, keeping their attempts', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', 'done');
      await cp.markItemInProgress('s', 'cut');
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('s', 'cut')).toBe('pending');
      expect(cp.getItem('s', 'cut').attempts).toBe(1);
      expect(cp.pendingItems('s', ['done', 'cut', 'new'])).toEqual(['cut', 'new']);
      expect(cp.getProgressSummary().steps['s']?.interrupted).toBe(1);
      await cp.markItemInProgress('s', 'cut');
      expect(cp.getItem('s', 'cut').attempts).toBe(2);
      await cp.markItemCompleted('s', 'cut');
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('s', 'cut')).toBe('completed');
      expect(cp.getItem('s', 'cut').attempts).toBe(2);
    });

    test('an item interrupted maxAttempts times becomes a dead letter', async (fixture) => {
      let cp = await fixture.open({ maxAttempts: 2 });
      await cp.markItemInProgress('s', 'crasher');
      cp = await fixture.reopen(cp, { maxAttempts: 2 });
      expect(cp.getItemStatus('s', 'crasher')).toBe('pending');
      await cp.markItemInProgress('s', 'crasher');
      cp = await fixture.reopen(cp, { maxAttempts: 2 });
      expect(cp.getItemStatus('s', 'crasher')).toBe('dead_letter');
      expect(cp.pendingItems('s', ['crasher'])).toEqual([]);
    });

    test('an in-progress item that was completed before is pending again after a crash', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', 'redo');
      await cp.markItemInProgress('s', 'redo');
      expect(cp.getItemStatus('s', 'redo')).toBe('in_progress');
      cp = await fixture.reopen(cp);
      expect(cp.getItemStatus('s', 'redo')).toBe('pending');
    });
  });
}
