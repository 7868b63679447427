import { CheckpointArgumentError } from './errors.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Deeper values are refused: they would overflow the stack of JSON.parse/stringify elsewhere. */
export const MAX_JSON_DEPTH = 500;

/**
 * Says why `value` is not plain JSON, or returns undefined if it is. Plain JSON means what
 * JSON.parse can return: no undefined, functions, symbols, BigInt, NaN/Infinity, class instances
 * (Date, Map, Set…) or cycles — values JSON.stringify would drop or silently change.
 */
export function findNonJson(value: unknown, path: string): string | undefined {
  return walk(value, path, new Set(), 0);
}

function walk(value: unknown, path: string, ancestors: Set<object>, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${String(value)}, which JSON cannot represent`;
    case 'object':
      break;
    default:
      return `${path} is a ${typeof value}, which JSON cannot represent`;
  }
  if (value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH) return `${path} is nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (ancestors.has(value)) return `${path} refers back to itself (a cycle)`;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = walk(value[i], `${path}[${i}]`, ancestors, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      const hint = value instanceof Date ? ' (pass date.toISOString() instead)' : '';
      return `${path} is a ${name}, not a plain object${hint}`;
    }
    for (const key of Object.keys(value)) {
      const problem = walk((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

/** Throws a clear argument error unless `value` is plain JSON. */
export function assertJson(value: unknown, path: string): asserts value is JsonValue {
  const problem = findNonJson(value, path);
  if (problem) throw new CheckpointArgumentError(`${problem}; checkpoints hold JSON only`);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
}
