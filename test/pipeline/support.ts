import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineStepError } from '../../src/core/errors.js';
import type { JsonObject } from '../../src/core/json.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { Logger } from '../../src/manager/options.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { PipelineOptions } from '../../src/pipeline/run-options.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { threeSteps, type ThreeCtx } from './children/three-steps.js';

/** A pipeline whose name and steps are given by the test. */
export class ScriptedPipeline<Ctx extends JsonObject> extends Pipeline<Ctx> {
  readonly name: string;
  readonly #steps: () => StepDefinition<Ctx>[];

  constructor(name: string, steps: () => StepDefinition<Ctx>[], options: PipelineOptions) {
    super(options);
    this.name = name;
    this.#steps = steps;
  }

  steps(): StepDefinition<Ctx>[] {
    return this.#steps();
  }
}

/** A logger that keeps every line, so tests can read what the pipeline said. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  readonly warnings: string[] = [];

  debug(message: string): void {
    this.lines.push(message);
  }

  info(message: string): void {
    this.lines.push(message);
  }

  warn(message: string, ...rest: unknown[]): void {
    const line = [message, ...rest.map((value) => (value instanceof Error ? value.message : String(value)))].join(' ');
    this.lines.push(line);
    this.warnings.push(line);
  }

  error(message: string, ...rest: unknown[]): void {
    this.warn(message, ...rest);
  }
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-pipeline-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * Leaves a checkpoint of pipeline "three" at `path` as a failed run does: step a and the item of
 * step b completed, step b failed. Resolves the run id.
 */
export async function failedRun(path: string): Promise<string> {
  const failing = new ScriptedPipeline<ThreeCtx>('three', threeSteps([], true), { path, logger: new RecordingLogger() });
  const error = await failing.run({}).then(() => undefined, (thrown: unknown) => thrown);
  if (!(error instanceof PipelineStepError)) throw new Error(`expected step b to fail, got ${String(error)}`);
  const cp = await CheckpointManager.open({ path, lock: false });
  const runId = cp.runId;
  await cp.close();
  return runId;
}
