/**
 * The completed keys of one step: a set of strings, made to resume big checkpoints fast.
 *
 * Keys loaded from a snapshot stay in the array the parser made and are found through an
 * open-addressing table of positions (`KeyIndex`) rather than inserted one by one into a
 * `Set`: building a `Set` of a million strings costs about three times the `JSON.parse` that
 * made them, the table about half of it. Keys completed after loading go to a plain `Set`, and
 * loaded keys that stop being completed (an item re-run and failed) to a small `Set` of removals.
 */
export class CompletedKeys implements Iterable<string> {
  #loaded = KeyIndex.EMPTY;
  /** Loaded keys that are no longer completed. */
  readonly #removed = new Set<string>();
  /** Keys completed since loading that were not loaded. */
  readonly #added = new Set<string>();

  /** Replaces the content with `keys` (duplicates count once). */
  load(keys: readonly string[]): void {
    this.clear();
    this.#loaded = keys.length === 0 ? KeyIndex.EMPTY : KeyIndex.of(keys);
  }

  get size(): number {
    return this.#loaded.size - this.#removed.size + this.#added.size;
  }

  has(key: string): boolean {
    if (this.#added.size !== 0 && this.#added.has(key)) return true;
    return this.#loaded.has(key) && (this.#removed.size === 0 || !this.#removed.has(key));
  }

  add(key: string): void {
    if (this.#loaded.has(key)) this.#removed.delete(key);
    else this.#added.add(key);
  }

  /** @returns whether `key` was completed */
  delete(key: string): boolean {
    if (this.#added.delete(key)) return true;
    if (!this.#loaded.has(key) || this.#removed.has(key)) return false;
    this.#removed.add(key);
    return true;
  }

  clear(): void {
    this.#loaded = KeyIndex.EMPTY;
    this.#removed.clear();
    this.#added.clear();
  }

  /** The keys in a new array: loaded ones first, in their order, then the ones added since. */
  toArray(): string[] {
    const loaded = this.#removed.size === 0 ? this.#loaded.keys() : this.#loaded.keys().filter((key) => !this.#removed.has(key));
    return this.#added.size === 0 ? loaded : loaded.concat(Array.from(this.#added));
  }

  [Symbol.iterator](): Iterator<string> {
    return this.toArray()[Symbol.iterator]();
  }
}

/**
 * A read-only set of strings over an array of them: a table of slots, two `Int32` each (the
 * key's hash, then its position in the array + 1; 0 marks an empty slot), at most half full,
 * probed linearly. About 8–16 bytes per key beside the strings themselves, and no allocation per
 * key. The hash is FNV-1a over the UTF-16 code units; comparing it first means a probe reads a
 * string only when its hash matches.
 */
class KeyIndex {
  static readonly EMPTY = new KeyIndex([]);

  static of(keys: readonly string[]): KeyIndex {
    const index = new KeyIndex(keys);
    // A list that names a key twice (hand-edited, or an old format) is rare: keep the first of each.
    return index.size === keys.length ? index : new KeyIndex(keys.filter((key, position) => index.#positionOf(key) === position));
  }

  readonly #keys: readonly string[];
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly size: number;

  /** Duplicates are left out of the table, which then knows only their first position. */
  private constructor(keys: readonly string[]) {
    let capacity = 2;
    while (capacity < keys.length * 2) capacity *= 2;
    const mask = capacity - 1;
    const slots = new Int32Array(capacity * 2);
    const { hashes, positions } = inSlotOrder(keys, mask);
    let unique = 0;
    for (let i = 0; i < hashes.length; i++) {
      const hash = hashes[i]!;
      const position = positions[i]!;
      let slot = hash & mask;
      let found = false;
      for (let at = slots[slot * 2 + 1]!; at !== 0; at = slots[slot * 2 + 1]!) {
        if (slots[slot * 2] === hash && keys[at - 1] === keys[position]) {
          found = true;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (found) continue;
      slots[slot * 2] = hash;
      slots[slot * 2 + 1] = position + 1;
      unique++;
    }
    this.#keys = keys;
    this.#slots = slots;
    this.#mask = mask;
    this.size = unique;
  }

  has(key: string): boolean {
    return this.size !== 0 && this.#positionOf(key) !== -1;
  }

  /** A copy of the keys, each once, in their original order. */
  keys(): string[] {
    return this.#keys.slice();
  }

  #positionOf(key: string): number {
    const slots = this.#slots;
    const hash = hashOf(key);
    let slot = hash & this.#mask;
    for (let at = slots[slot * 2 + 1]!; at !== 0; at = slots[slot * 2 + 1]!) {
      if (slots[slot * 2] === hash && this.#keys[at - 1] === key) return at - 1;
      slot = (slot + 1) & this.#mask;
    }
    return -1;
  }
}

/**
 * The keys' hashes and positions, ordered by the slot each hash points to (a counting sort on
 * the slot's top bits; stable, so a duplicate still comes after its first). Filling the table in
 * this order walks it front to back instead of jumping around megabytes of memory at random,
 * which makes building it about twice as fast at a million keys.
 */
function inSlotOrder(keys: readonly string[], mask: number): { hashes: Int32Array; positions: Int32Array } {
  const shift = Math.max(0, 31 - Math.clz32(mask + 1) - 12);
  const buckets = ((mask + 1) >>> shift) + 1;
  const hashOfKey = new Int32Array(keys.length);
  const starts = new Int32Array(buckets);
  for (let position = 0; position < keys.length; position++) {
    const hash = hashOf(keys[position]!);
    hashOfKey[position] = hash;
    starts[((hash & mask) >>> shift) + 1]!++;
  }
  for (let bucket = 1; bucket < buckets; bucket++) starts[bucket]! += starts[bucket - 1]!;
  const hashes = new Int32Array(keys.length);
  const positions = new Int32Array(keys.length);
  for (let position = 0; position < keys.length; position++) {
    const hash = hashOfKey[position]!;
    const at = starts[(hash & mask) >>> shift]!++;
    hashes[at] = hash;
    positions[at] = position;
  }
  return { hashes, positions };
}

function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  // `| 0`: the table stores Int32, and the offset basis alone (the empty key) is not one.
  return hash | 0;
}
