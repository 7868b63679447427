import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import { itemKey } from '../core/item-key.js';
import type { JsonValue } from '../core/json.js';

/** A deep copy of a JSON value, so that later changes by the caller do not reach the checkpoint. */
export const clone = <T extends JsonValue>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export function assertName(kind: 'step' | 'stage', name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) {
    throw new CheckpointArgumentError(`Expected \`${kind}\` to be a non-empty string, got ${describeValue(name)}`);
  }
}

/** The item key function: the user's `itemKey` option, checked, or the default `itemKey`. */
export function keyFunction(custom: ((item: unknown) => string) | undefined): (item: unknown) => string {
  if (!custom) return itemKey;
  return (item) => {
    const key: unknown = custom(item);
    if (typeof key === 'string') return key;
    // `itemKey: (doc) => doc.id` with numeric ids: a finite number is keyed by its decimal string,
    // as the default key function does (5 and "5" are one item).
    if (typeof key === 'number' && Number.isFinite(key)) return String(key);
    throw new CheckpointArgumentError(`Expected the \`itemKey\` option to return a string or a finite number, got ${describeValue(key)}`);
  };
}
