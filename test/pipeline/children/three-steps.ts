import type { StepDefinition } from '../../../src/pipeline/step-definition.js';

export type ThreeCtx = Record<string, never>;

/** Steps a, b, c of pipeline "three": each completes one item; b then throws when `failB`. */
export function threeSteps(calls: string[], failB = false): () => StepDefinition<ThreeCtx>[] {
  return () =>
    ['a', 'b', 'c'].map((name) => ({
      name,
      run: async (_ctx, step) => {
        calls.push(name);
        await step.markItemCompleted(`${name}-item`);
        if (name === 'b' && failB) throw new Error('b failed');
        return {};
      },
    }));
}
