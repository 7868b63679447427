import { createHash } from 'node:crypto';
import { CheckpointArgumentError } from './errors.js';
import { canonicalJson, findNonJson } from './json.js';

/** Canonical JSON longer than this is replaced by its SHA-256, to keep checkpoints compact. */
export const MAX_ITEM_KEY_LENGTH = 256;

/**
 * The identity of an item in a checkpoint. Strings are their own key; any other JSON value is
 * keyed by its canonical JSON (object keys sorted, so `{a, b}` and `{b, a}` are one item), hashed
 * as `sha256:<hex>` when longer than {@link MAX_ITEM_KEY_LENGTH} characters.
 *
 * @example itemKey({ id: 7, lang: 'en' }) // '{"id":7,"lang":"en"}'
 */
export function itemKey(item: unknown): string {
  if (typeof item === 'string') return item;
  const problem = findNonJson(item, 'item');
  if (problem) {
    throw new CheckpointArgumentError(
      `cannot derive an item key: ${problem} — pass a string or JSON value, or an \`itemKey\` option`,
    );
  }
  const json = canonicalJson(item as Parameters<typeof canonicalJson>[0]);
  if (json.length <= MAX_ITEM_KEY_LENGTH) return json;
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}

/** Fingerprint of a configuration: SHA-256 of its canonical JSON. */
export function fingerprint(value: Parameters<typeof canonicalJson>[0]): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}
