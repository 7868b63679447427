/**
 * The completed keys of one step: a set of strings, made for the two moments that matter in a
 * big checkpoint — opening it, and asking about a key it does not hold yet.
 *
 * The keys live in one array, in the order they were completed, and are found through an
 * open-addressing table: an `Int32Array` of slots, each the key's hash and its position in the
 * array + 1 (0 marks an empty slot), at most half full, probed linearly. Against a `Set<string>`:
 *
 * - **Opening.** The keys a snapshot holds stay in the array the parser made; the table is built
 *   in one pass, filled in slot order so that it is written front to back. A million keys take
 *   about a sixth of what inserting them into a `Set` does (which hashes each string, misses the
 *   cache at every insert and rebuilds its table each time it doubles).
 * - **A key that is not there** — every new item, checked before it is marked — costs one probe
 *   of the table, whose slot is usually empty. A `Set` walks a chain of entries and reads each
 *   entry's string to compare hashes: several cache misses in a table of megabytes.
 *
 * The hash is FNV-1a over the UTF-16 units; a string is only read when its hash matches. A deleted
 * key leaves a hole in the array (and its slot, which no longer matches anything) until the table
 * next grows, when the holes are dropped.
 */
export class CompletedKeys implements Iterable<string> {
  /** Completed keys by position; `undefined` where a key was deleted. */
  #keys: (string | undefined)[] = [];
  /** Whether `#keys` is still the caller's array, which must not change. */
  #borrowed = false;
  /** The hash of each position's key. */
  #hashes = new Int32Array(8);
  #slots = new Int32Array(16);
  #mask = 7;
  #deleted = 0;

  /** Replaces the content with `keys` (duplicates count once), keeping the array itself. */
  load(keys: readonly string[]): void {
    const hashes = new Int32Array(Math.max(8, keys.length));
    for (let position = 0; position < keys.length; position++) hashes[position] = hashOf(keys[position]!);
    this.#keys = keys as string[];
    this.#borrowed = true;
    this.#hashes = hashes;
    this.#deleted = 0;
    if (!this.#rebuild(capacityFor(keys.length))) {
      // A list that names a key twice (hand-edited, or an old format) is rare: keep the first of each.
      this.#dropUnreachable();
    }
  }

  get size(): number {
    return this.#keys.length - this.#deleted;
  }

  has(key: string): boolean {
    return this.#find(key, hashOf(key)) !== -1;
  }

  add(key: string): void {
    const hash = hashOf(key);
    if (this.#find(key, hash) !== -1) return;
    if ((this.#keys.length + 1) * 2 > this.#mask + 1) this.#grow();
    const keys = this.#own();
    const position = keys.push(key) - 1;
    if (position >= this.#hashes.length) {
      const hashes = new Int32Array(this.#hashes.length * 2);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
    }
    this.#hashes[position] = hash;
    this.#place(hash, position);
  }

  /** @returns whether `key` was completed */
  delete(key: string): boolean {
    const position = this.#find(key, hashOf(key));
    if (position === -1) return false;
    this.#own()[position] = undefined;
    this.#deleted++;
    return true;
  }

  clear(): void {
    this.#keys = [];
    this.#borrowed = false;
    this.#hashes = new Int32Array(8);
    this.#slots = new Int32Array(16);
    this.#mask = 7;
    this.#deleted = 0;
  }

  /** The keys in a new array, in the order they were loaded or completed. */
  toArray(): string[] {
    return this.#deleted === 0 ? (this.#keys.slice() as string[]) : this.#keys.filter((key): key is string => key !== undefined);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.toArray()[Symbol.iterator]();
  }

  /** The position of `key`, or -1. */
  #find(key: string, hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slots[slot * 2 + 1]!;
      if (at === 0) return -1;
      if (slots[slot * 2] === hash && this.#keys[at - 1] === key) return at - 1;
    }
  }

  #place(hash: number, position: number): void {
    const slots = this.#slots;
    let slot = hash & this.#mask;
    while (slots[slot * 2 + 1] !== 0) slot = (slot + 1) & this.#mask;
    slots[slot * 2] = hash;
    slots[slot * 2 + 1] = position + 1;
  }

  /** The array, copied first if it is still the one `load` was given. */
  #own(): (string | undefined)[] {
    if (this.#borrowed) {
      this.#keys = this.#keys.slice();
      this.#borrowed = false;
    }
    return this.#keys;
  }

  /** Makes room for one more key: drops the holes of deleted keys, or else doubles the table. */
  #grow(): void {
    if (this.#deleted > 0) this.#dropUnreachable();
    else this.#rebuild(capacityFor(this.#keys.length + 1));
  }

  /** Keeps only the positions the table can reach: live keys, each once, in their order. */
  #dropUnreachable(): void {
    const keys: string[] = [];
    const hashes = new Int32Array(Math.max(8, this.#keys.length));
    for (let position = 0; position < this.#keys.length; position++) {
      const key = this.#keys[position];
      const hash = this.#hashes[position]!;
      if (key === undefined || this.#find(key, hash) !== position) continue;
      hashes[keys.length] = hash;
      keys.push(key);
    }
    this.#keys = keys;
    this.#borrowed = false;
    this.#hashes = hashes;
    this.#deleted = 0;
    this.#rebuild(capacityFor(keys.length + 1));
  }

  /**
   * Fills a new table of `capacity` slots with every key of `#keys`, which has no holes here.
   * The keys go in by the slot their hash points to, so that the table is written front to back
   * instead of at random across megabytes, and a key's text is read only when hashes match:
   * about twice as fast at a million keys.
   * @returns false if a key was found twice; its later positions are left out of the table
   */
  #rebuild(capacity: number): boolean {
    const mask = capacity - 1;
    const keys = this.#keys;
    const count = keys.length;
    const hashes = this.#hashes;
    // A counting sort by the top bits of the home slot (stable: a duplicate still comes after its first).
    const shift = Math.max(0, 31 - Math.clz32(capacity) - 12);
    const starts = new Int32Array((capacity >>> shift) + 1);
    for (let position = 0; position < count; position++) starts[((hashes[position]! & mask) >>> shift) + 1]!++;
    for (let bucket = 1; bucket < starts.length; bucket++) starts[bucket]! += starts[bucket - 1]!;
    const sortedHashes = new Int32Array(count);
    const sortedPositions = new Int32Array(count);
    for (let position = 0; position < count; position++) {
      const at = starts[(hashes[position]! & mask) >>> shift]!++;
      sortedHashes[at] = hashes[position]!;
      sortedPositions[at] = position;
    }

    const slots = new Int32Array(capacity * 2);
    let unique = true;
    for (let i = 0; i < count; i++) {
      const hash = sortedHashes[i]!;
      const position = sortedPositions[i]!;
      // One walk: an equal key on the way is a duplicate, else the first empty slot is the key's.
      let slot = hash & mask;
      let duplicate = false;
      for (let at = slots[slot * 2 + 1]!; at !== 0; at = slots[slot * 2 + 1]!) {
        if (slots[slot * 2] === hash && keys[at - 1] === keys[position]) {
          duplicate = true;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (duplicate) {
        unique = false;
        continue;
      }
      slots[slot * 2] = hash;
      slots[slot * 2 + 1] = position + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
    return unique;
  }
}

/** Table slots for `count` keys: a power of two, at least twice the count. */
function capacityFor(count: number): number {
  let capacity = 16;
  while (capacity < count * 2) capacity *= 2;
  return capacity;
}

function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  // `| 0`: the table stores Int32, and the offset basis alone (the empty key) is not one.
  return hash | 0;
}
