import { findNonJson, type JsonValue } from '../core/json.js';

/** Results up to this size (as JSON) are kept in the checkpoint with the item. */
export const MAX_RESULT_BYTES = 1024;

/**
 * What of `fn`'s return value to store with a completed item: the value itself when it is plain
 * JSON of at most {@link MAX_RESULT_BYTES}; otherwise nothing. A checkpoint records that work was
 * done; large outputs belong in the user's own files or database, not in every snapshot.
 */
export function storableResult(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    // Measured first: a small string tells quickly whether the full check is worth it.
    json = JSON.stringify(value);
  } catch {
    return undefined; // a cycle or a BigInt
  }
  if (json === undefined || Buffer.byteLength(json) > MAX_RESULT_BYTES) return undefined;
  // JSON.stringify drops or converts what JSON cannot hold (undefined, Dates, Maps); keep only exact JSON.
  return findNonJson(value, 'result') === undefined ? (value as JsonValue) : undefined;
}
