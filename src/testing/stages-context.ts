import type { Suite } from './harness.js';

/** Stages with results, the run's context, counters and step summaries. */
export function describeStagesAndContext(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('stages, context and counters', () => {
    test('completed stages keep their order and results across a reopen', async (fixture) => {
      let cp = await fixture.open();
      expect(cp.isStageCompleted('download')).toBe(false);
      await cp.markStageCompleted('download', { frames: 10 });
      await cp.markStageCompleted('isolate');
      await cp.markStageCompleted('enhance', [1, 'two', null]);
      cp = await fixture.reopen(cp);
      expect(cp.getProgressSummary().stages).toEqual(['download', 'isolate', 'enhance']);
      expect(cp.isStageCompleted('isolate')).toBe(true);
      expect(cp.getStageResult('download')).toEqual({ frames: 10 });
      expect(cp.getStageResult('isolate')).toBe(undefined);
      expect(cp.getStageResult('enhance')).toEqual([1, 'two', null]);
      expect(cp.isStageCompleted('train')).toBe(false);
    });

    test('setContext replaces the context with a copy, kept across a reopen', async (fixture) => {
      let cp = await fixture.open();
      expect(cp.context).toEqual({});
      const context = { videoPath: 'in/video.mp4', frames: [1, 2, 3], nested: { ok: true, none: null } };
      await cp.setContext(context);
      context.frames.push(4);
      expect(cp.context).toEqual({ videoPath: 'in/video.mp4', frames: [1, 2, 3], nested: { ok: true, none: null } });
      await cp.setContext({ replaced: 1 });
      cp = await fixture.reopen(cp);
      expect(cp.context).toEqual({ replaced: 1 });
    });

    test('counters add up within a run and across runs', async (fixture) => {
      let cp = await fixture.open();
      expect(cp.getCounter('tokens')).toBe(0);
      expect(await cp.increment('tokens', 120)).toBe(120);
      expect(await cp.increment('tokens', 30)).toBe(150);
      expect(await cp.increment('cost', 0.25)).toBe(0.25);
      expect(await cp.increment('calls')).toBe(1);
      cp = await fixture.reopen(cp);
      expect(await cp.increment('tokens', -50)).toBe(100);
      cp = await fixture.reopen(cp);
      expect(cp.getProgressSummary().counters).toEqual({ tokens: 100, cost: 0.25, calls: 1 });
    });

    test('step summaries are saved with their metadata and memoised result', async (fixture) => {
      let cp = await fixture.open();
      await cp.setStepSummary('download', {
        status: 'completed',
        startedAt: '2025-01-20T10:30:00.000Z',
        endedAt: '2025-01-20T10:31:00.000Z',
        durationMs: 60_000,
        metadata: { source: 'gs://bucket' },
        result: { frames: 10 },
      });
      await cp.setStepSummary('extract', { status: 'running', group: 'prep' });
      cp = await fixture.reopen(cp);
      expect(cp.getStepSummary('download')?.result).toEqual({ frames: 10 });
      expect(cp.getStepSummary('download')?.metadata).toEqual({ source: 'gs://bucket' });
      expect(cp.getStepSummary('extract')).toEqual({ status: 'running', group: 'prep' });
      expect(cp.getProgressSummary().steps['download']?.status).toBe('completed');
      expect(cp.getStepSummary('train')).toBe(undefined);
    });

    test('step names, stages and counters are independent namespaces', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('same', 'a');
      await cp.markStageCompleted('same');
      await cp.increment('same', 2);
      cp = await fixture.reopen(cp);
      expect(cp.isItemCompleted('same', 'a')).toBe(true);
      expect(cp.isStageCompleted('same')).toBe(true);
      expect(cp.getCounter('same')).toBe(2);
    });
  });
}
