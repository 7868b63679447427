/**
 * zod, like most validators, skips `__proto__` keys when it copies an object (so that they cannot
 * pollute prototypes), which would silently drop a step, counter or context key of that name.
 * Such keys are renamed before validation and restored after it, as own properties: a step named
 * `__proto__` is a step like any other, and no prototype is ever touched.
 */
const MARK = '\u0000';

const escapeKey = (key: string): string => (key === '__proto__' || key.startsWith(MARK) ? `${MARK}${key}` : key);
const unescapeKey = (key: string): string => (key.startsWith(MARK) ? key.slice(1) : key);

/** Returns `value` with `__proto__` keys renamed, and whether anything was renamed. */
export function escapeProtoKeys(value: unknown): { value: unknown; escaped: boolean } {
  const escaped = renameKeys(value, escapeKey);
  return { value: escaped, escaped: escaped !== value };
}

/** Undoes {@link escapeProtoKeys} on a validated copy. */
export function unescapeProtoKeys<T>(value: T): T {
  return renameKeys(value, unescapeKey) as T;
}

/** Copies only the objects that change; everything else is shared with the input. */
function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
      const renamed = renameKeys(item, rename);
      if (renamed !== item) (copy ??= value.slice())[i] = renamed;
    }
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let entries: [string, unknown][] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    const renamedKey = rename(key);
    const renamed = renameKeys(item, rename);
    if (!entries && (renamedKey !== key || renamed !== item)) entries = keys.slice(0, i).map((earlier) => [earlier, object[earlier]]);
    entries?.push([renamedKey, renamed]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return entries ? Object.fromEntries(entries) : value;
}
