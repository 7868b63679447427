/**
 * A pipeline script as users write one, for the prompt tests: `prompt-worker.ts <checkpoint>
 * <result file> [flags…]` runs pipeline "three" with `parseCheckpointFlags(flags)` and writes
 * `{ outcome, calls, runId, resumed }` (or the error's name and message) to the result file.
 * A quit at the prompt is left uncaught, so the process ends as a user's script would.
 */
import { writeFileSync } from 'node:fs';
import { parseCheckpointFlags } from '../../../src/flags/parse-checkpoint-flags.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { StepDefinition } from '../../../src/pipeline/step-definition.js';
import { threeSteps, type ThreeCtx } from './three-steps.js';

const [path, resultFile, ...argv] = process.argv.slice(2);
if (!path || !resultFile) throw new Error('usage: prompt-worker.ts <checkpoint> <result file> [flags…]');
const calls: string[] = [];

class Three extends Pipeline<ThreeCtx> {
  readonly name = 'three';
  steps(): StepDefinition<ThreeCtx>[] {
    return threeSteps(calls)();
  }
}

try {
  const result = await new Three({ path }).run({}, parseCheckpointFlags(argv));
  writeFileSync(resultFile, JSON.stringify({ outcome: 'done', calls, runId: result.runId, resumed: result.resumedFromCheckpoint }));
} catch (error) {
  writeFileSync(resultFile, JSON.stringify({ outcome: (error as Error).name, message: (error as Error).message, calls }));
  throw error;
}
