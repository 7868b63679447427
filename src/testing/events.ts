import type { ItemEvent, StageEvent } from '../core/events.js';
import { codeOf, rejection, type Suite } from './harness.js';

/** Events emitted by marks, and complete() ending the checkpoint. */
export function describeEventsAndCompletion(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('events', () => {
    test('item and stage events report each mark; off() stops them', async (fixture) => {
      const cp = await fixture.open();
      const items: ItemEvent[] = [];
      const stages: StageEvent[] = [];
      const onItem = (event: ItemEvent): void => {
        items.push(event);
      };
      cp.on('item', onItem);
      const stop = cp.on('stage', (event) => stages.push(event));
      await cp.markItemInProgress('s', 'a');
      await cp.markItemCompleted('s', 'a');
      await cp.markItemFailed('s', 'b', new Error('nope'));
      await cp.markStageCompleted('download', { n: 1 });
      cp.off('item', onItem);
      stop();
      await cp.markItemCompleted('s', 'c');
      await cp.markStageCompleted('other');
      expect(items.map(({ key, status, attempts }) => `${key}:${status}:${attempts}`)).toEqual(['a:in_progress:1', 'a:completed:1', 'b:failed:1']);
      expect(items[2]?.error?.message).toBe('nope');
      expect(items[0]?.step).toBe('s');
      expect(stages).toEqual([{ stage: 'download', result: { n: 1 } }]);
    });

    test('a listener that throws does not break the mark; the error is logged', async (fixture) => {
      let cp = await fixture.open();
      cp.on('item', () => {
        throw new Error('listener bug');
      });
      await cp.markItemCompleted('s', 'a');
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
      expect(fixture.logs.some((line) => line.startsWith('error'))).toBe(true);
      cp = await fixture.reopen(cp);
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
    });
  });

  runner.describe('flush, close and complete', () => {
    test('flush resolves and keeps everything; close twice is harmless', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', 'a');
      await cp.flush();
      await cp.close();
      await cp.close();
      expect(cp.closed).toBe(true);
      cp = await fixture.open();
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
    });

    test('complete() removes the checkpoint: the next open starts a new run', async (fixture) => {
      const cp = await fixture.open({ pipeline: 'p' });
      const runId = cp.runId;
      await cp.markItemCompleted('s', 'a');
      await cp.markStageCompleted('download');
      await cp.complete();
      expect(codeOf(await rejection(cp.markItemCompleted('s', 'b')))).toBe('CHECKPOINT_CLOSED');
      expect(codeOf(await rejection(cp.complete()))).toBe('CHECKPOINT_CLOSED');
      const next = await fixture.open({ pipeline: 'p' });
      expect(next.runId).not.toBe(runId);
      expect(next.isItemCompleted('s', 'a')).toBe(false);
      expect(next.isStageCompleted('download')).toBe(false);
    });

    test('keepOnComplete keeps the checkpoint', async (fixture) => {
      const cp = await fixture.open({ keepOnComplete: true });
      await cp.markItemCompleted('s', 'a');
      await cp.complete();
      const next = await fixture.open();
      expect(next.runId).toBe(cp.runId);
      expect(next.isItemCompleted('s', 'a')).toBe(true);
    });
  });
}
