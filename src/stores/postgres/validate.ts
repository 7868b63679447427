import { checkValue, rules } from '../../core/validate-options.js';

const POSITIVE_INTEGER = rules.number({ min: 1 });

/** `value` if it is a positive integer, else a CheckpointArgumentError naming `name`. */
export function positiveInteger(name: string, value: unknown): number {
  return checkValue(name, value, POSITIVE_INTEGER) as number;
}
