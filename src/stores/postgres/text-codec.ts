/**
 * PostgreSQL `text` cannot hold the NUL character, but item keys and step, stage and counter
 * names may contain it. Such strings (and those that start with the marker, so that decoding is
 * never ambiguous) are stored as the marker followed by their JSON; every other string is stored
 * as itself, so that the tables stay readable with plain SQL.
 */
const MARKER = '\u0001';

export function encodeText(value: string): string {
  return value.includes('\u0000') || value.startsWith(MARKER) ? MARKER + JSON.stringify(value) : value;
}

export function decodeText(stored: string): string {
  return stored.startsWith(MARKER) ? (JSON.parse(stored.slice(1)) as string) : stored;
}

/** JSON for a `json` column; `undefined` becomes SQL NULL. */
export function jsonParameter(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
