import { describe, expect, it } from 'vitest';
import { usePostgres } from '../support/postgres-fixture.js';

const postgres = usePostgres();

describe('runStageOnce', () => {
  it('exactly one of several workers runs a stage; the others wait and get its result', async () => {
    const pipeline = postgres.unique('stage');
    const stores = [0, 1, 2, 3].map(() => postgres.store({ pipeline }));
    let runs = 0;
    const outcomes = await Promise.all(
      stores.map((store) =>
        store.runStageOnce('download', async () => {
          runs++;
          // The stage's work takes a while, so that the other workers come while it runs.
          await new Promise((resolve) => setTimeout(resolve, 300));
          return { frames: 10 };
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(outcomes.filter((outcome) => outcome.ran)).toHaveLength(1);
    expect(outcomes.map((outcome) => outcome.result)).toEqual([{ frames: 10 }, { frames: 10 }, { frames: 10 }, { frames: 10 }]);
    expect(outcomes.every((outcome) => outcome.completed)).toBe(true);
    // Later callers do not run it either.
    expect(await stores[0]!.runStageOnce('download', async () => ({ frames: -1 }))).toEqual({ ran: false, completed: true, result: { frames: 10 } });
    await Promise.all(stores.map((store) => store.close()));
  });

  it('with wait: false the others skip while it runs; a failed stage is run again by the next worker', async () => {
    const pipeline = postgres.unique('stage');
    const [a, b] = [postgres.store({ pipeline }), postgres.store({ pipeline })];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finish!: () => void;
    const training = a.runStageOnce('train', () => {
      // Called once this worker holds the stage's lock.
      started();
      return new Promise<string>((resolve) => (finish = () => resolve('model-1')));
    });
    await running;
    expect(await b.runStageOnce('train', async () => 'never', { wait: false })).toEqual({ ran: false, completed: false, result: undefined });
    finish();
    expect(await training).toEqual({ ran: true, completed: true, result: 'model-1' });

    await expect(a.runStageOnce('flaky', async () => { throw new Error('stage failed'); })).rejects.toThrow('stage failed');
    expect(await b.runStageOnce('flaky', async () => 'second try')).toEqual({ ran: true, completed: true, result: 'second try' });
    await Promise.all([a.close(), b.close()]);
  });
});
