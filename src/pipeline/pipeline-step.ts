import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import { assertJson, isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { CheckpointManager } from '../manager/checkpoint-manager.js';
import { StepHandle } from '../manager/step-handle.js';
import type { ItemFunction } from '../runner/for-each.js';
import type { ForEachOptions, ForEachReport } from '../runner/options.js';

/**
 * The second argument of a step's `run`: every StepHandle call bound to this step (its items,
 * `forEach`, …) plus `metadata`, which is saved in the step summary when the step ends.
 * It extends StepHandle rather than wrapping it, so whatever the handle learns, a step can use.
 */
export class PipelineStep extends StepHandle {
  readonly #metadata: JsonObject = {};
  /** Options the run gives every `forEach` of the step (such as `progress`); the step's own win. */
  readonly #forEachDefaults: ForEachOptions;

  constructor(checkpoint: CheckpointManager, name: string, metadata: JsonObject = {}, forEachDefaults: ForEachOptions = {}) {
    super(checkpoint, name);
    Object.assign(this.#metadata, metadata);
    this.#forEachDefaults = forEachDefaults;
  }

  override forEach<T, R>(items: Iterable<T> | AsyncIterable<T>, fn: ItemFunction<T, R>, options?: ForEachOptions): Promise<ForEachReport> {
    // Anything but an object is passed on as it is, for forEach to refuse with its own message.
    const merged = options === undefined || (typeof options === 'object' && options !== null) ? { ...this.#forEachDefaults, ...options } : options;
    return super.forEach(items, fn, merged);
  }

  /** What the step recorded about itself (counts, sizes, model versions…); JSON only. */
  get metadata(): JsonObject {
    return this.#metadata;
  }

  /** Merges `values` into the metadata; non-JSON values are refused here, where they come from. */
  setMetadata(values: JsonObject): void {
    if (!isJsonObject(values)) {
      throw new CheckpointArgumentError(`Expected \`metadata\` to be a plain object, got ${describeValue(values)}`);
    }
    assertJson(values, `step "${this.name}" metadata`);
    Object.assign(this.#metadata, values);
  }

  /** Sets one metadata field. */
  setMetadataValue(key: string, value: JsonValue): void {
    this.setMetadata({ [key]: value });
  }
}
