import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';

interface Held {
  body: Uint8Array;
  version: string;
}

/**
 * A bucket in this process's memory: the reference semantics of {@link ObjectBucket} (every write
 * conditional, a precondition failure answered with `undefined`) and a fast bucket for tests of
 * the object store. Bodies are copied in and out, as a real bucket would.
 */
export class MemoryBucket implements ObjectBucket {
  readonly location: string;
  readonly #objects = new Map<string, Held>();
  #versions = 0;

  constructor(location = 'memory://bucket') {
    this.location = location;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const held = this.#objects.get(key);
    return held ? { body: held.body.slice(), version: held.version } : undefined;
  }

  async getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    return this.#objects.get(key)?.body.slice(0, length);
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    if (this.#objects.has(key)) return undefined;
    return this.#put(key, body);
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    if (this.#objects.get(key)?.version !== version) return undefined;
    return this.#put(key, body);
  }

  async delete(key: string, version?: string): Promise<void> {
    const held = this.#objects.get(key);
    if (!held || (version !== undefined && held.version !== version)) return;
    this.#objects.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#objects.delete(key);
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return [...this.#objects]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, held]) => ({ key, size: held.body.byteLength, version: held.version }));
  }

  #put(key: string, body: Uint8Array): string {
    // Versions never repeat, even for a key deleted and created again (like a GCS generation).
    const version = `v${++this.#versions}`;
    this.#objects.set(key, { body: body.slice(), version });
    return version;
  }
}
