import { CheckpointArgumentError, describeValue } from '../../core/errors.js';

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new CheckpointArgumentError(`Expected \`${name}\` to be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}
