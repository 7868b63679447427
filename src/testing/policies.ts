import { codeOf, rejection, type Suite } from './harness.js';

/** Pipeline and config checks on open, and what each `onConfigChange` policy does. */
export function describePolicies(suite: Suite): void {
  const { runner, expect, test } = suite;
  runner.describe('pipeline and config mismatches', () => {
    test('a checkpoint of another pipeline is refused, and the store stays usable', async (fixture) => {
      let cp = await fixture.open({ pipeline: 'fri_level' });
      await cp.markItemCompleted('s', 'a');
      await cp.close();
      const error = await rejection(fixture.open({ pipeline: 'other' }));
      expect(codeOf(error)).toBe('CHECKPOINT_MISMATCH');
      expect((error as { kind?: unknown }).kind).toBe('pipeline');
      expect(String(error)).toContain('fri_level');
      cp = await fixture.open({ pipeline: 'fri_level' });
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
    });

    test('a pipeline name given later is recorded', async (fixture) => {
      let cp = await fixture.open();
      expect(cp.pipeline).toBe(undefined);
      cp = await fixture.reopen(cp, { pipeline: 'named' });
      expect(cp.pipeline).toBe('named');
      await cp.close();
      expect(codeOf(await rejection(fixture.open({ pipeline: 'renamed' })))).toBe('CHECKPOINT_MISMATCH');
    });

    test('the same config, in any key order, resumes', async (fixture) => {
      let cp = await fixture.open({ config: { model: 'x', limits: { a: 1, b: 2 } } });
      await cp.markItemCompleted('s', 'a');
      cp = await fixture.reopen(cp, { config: { limits: { b: 2, a: 1 }, model: 'x' } });
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
      cp = await fixture.reopen(cp);
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
    });

    test('a changed config is rejected by default', async (fixture) => {
      const cp = await fixture.open({ config: { model: 'x' } });
      await cp.markItemCompleted('s', 'a');
      await cp.close();
      const error = await rejection(fixture.open({ config: { model: 'y' } }));
      expect(codeOf(error)).toBe('CHECKPOINT_MISMATCH');
      expect((error as { kind?: unknown }).kind).toBe('config');
      expect(String(error)).toContain('onConfigChange');
      expect(codeOf(await rejection(fixture.open({ config: { model: 'y' }, onConfigChange: 'reject' })))).toBe('CHECKPOINT_MISMATCH');
      const same = await fixture.open({ config: { model: 'x' } });
      expect(same.isItemCompleted('s', 'a')).toBe(true);
    });

    test('onConfigChange: accept keeps the progress and records the new config', async (fixture) => {
      let cp = await fixture.open({ config: { model: 'x' } });
      const runId = cp.runId;
      await cp.markItemCompleted('s', 'a');
      cp = await fixture.reopen(cp, { config: { model: 'y' }, onConfigChange: 'accept' });
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
      expect(cp.runId).toBe(runId);
      await cp.markItemCompleted('s', 'b');
      cp = await fixture.reopen(cp, { config: { model: 'y' } });
      expect(cp.isItemCompleted('s', 'b')).toBe(true);
      await cp.close();
      expect(codeOf(await rejection(fixture.open({ config: { model: 'x' } })))).toBe('CHECKPOINT_MISMATCH');
    });

    test('onConfigChange: restart starts a new run with the new config', async (fixture) => {
      let cp = await fixture.open({ pipeline: 'p', config: { model: 'x' } });
      const runId = cp.runId;
      await cp.markItemCompleted('s', 'a');
      await cp.markStageCompleted('download');
      await cp.increment('cost', 1);
      cp = await fixture.reopen(cp, { pipeline: 'p', config: { model: 'y' }, onConfigChange: 'restart' });
      expect(cp.runId).not.toBe(runId);
      expect(cp.isItemCompleted('s', 'a')).toBe(false);
      expect(cp.isStageCompleted('download')).toBe(false);
      expect(cp.getCounter('cost')).toBe(0);
      await cp.markItemCompleted('s', 'z');
      const newRun = cp.runId;
      cp = await fixture.reopen(cp, { pipeline: 'p', config: { model: 'y' } });
      expect(cp.runId).toBe(newRun);
      expect(cp.isItemCompleted('s', 'z')).toBe(true);
      expect(cp.isItemCompleted('s', 'a')).toBe(false);
    });

    test('a config given for the first time on resume is recorded', async (fixture) => {
      let cp = await fixture.open();
      await cp.markItemCompleted('s', 'a');
      cp = await fixture.reopen(cp, { config: { model: 'x' } });
      expect(cp.isItemCompleted('s', 'a')).toBe(true);
      await cp.close();
      expect(codeOf(await rejection(fixture.open({ config: { model: 'y' } })))).toBe('CHECKPOINT_MISMATCH');
    });
  });
}
