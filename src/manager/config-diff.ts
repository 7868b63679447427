import { canonicalJson, isJsonObject, type JsonValue } from '../core/json.js';

/** How many differing keys a message lists before "and N more": enough to see, short enough to read. */
const MAX_KEYS_SHOWN = 5;
/** Each value is cut to about this many characters, so that a large prompt or list stays one line. */
const MAX_VALUE_CHARS = 40;

/** One difference between two configs, at a dotted path (`limits.batch`); `undefined` means absent. */
export interface ConfigDifference {
  path: string;
  before: JsonValue | undefined;
  after: JsonValue | undefined;
}

/**
 * The keys whose values differ between two configs, by dotted path, in the order they first
 * appear. Objects are compared key by key (key order does not matter, as in the fingerprint);
 * arrays and other values are compared whole.
 */
export function configDifferences(before: JsonValue | undefined, after: JsonValue | undefined, path = ''): ConfigDifference[] {
  if (isJsonObject(before) && isJsonObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) =>
      configDifferences(Object.hasOwn(before, key) ? before[key] : undefined, Object.hasOwn(after, key) ? after[key] : undefined, joinPath(path, key)),
    );
  }
  if (before !== undefined && after !== undefined && canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path: path || '(the whole config)', before, after }];
}

/**
 * Describes what changed, e.g. `model: "small" → "large", limits.batch: 10 → 20, and 3 more`;
 * `undefined` when nothing differs that can be shown (the saved config is not known).
 */
export function describeConfigChange(before: JsonValue | undefined, after: JsonValue | undefined): string | undefined {
  if (before === undefined) return undefined;
  const differences = configDifferences(before, after);
  if (differences.length === 0) return undefined;
  const shown = differences.slice(0, MAX_KEYS_SHOWN).map(({ path, before: old, after: now }) => `${path}: ${shortValue(old)} → ${shortValue(now)}`);
  const more = differences.length - MAX_KEYS_SHOWN;
  return more > 0 ? `${shown.join(', ')}, and ${more} more` : shown.join(', ');
}

function joinPath(path: string, key: string): string {
  // A key that is not a plain name (`a.b`, `with space`, ``) is quoted, so the path stays unambiguous.
  const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return path === '' || part.startsWith('[') ? `${path}${part}` : `${path}.${part}`;
}

function shortValue(value: JsonValue | undefined): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}
