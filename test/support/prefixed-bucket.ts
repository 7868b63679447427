import { readStart, type ObjectBucket, type ObjectEntry, type StoredObject } from '../../src/stores/object/bucket.js';

/** A bucket seen under a prefix of its own, so that tests against one real bucket each start empty. */
export class PrefixedBucket implements ObjectBucket {
  readonly location: string;

  constructor(
    private readonly bucket: ObjectBucket,
    private readonly prefix: string,
  ) {
    this.location = `${bucket.location}/${prefix}`;
  }

  get(key: string): Promise<StoredObject | undefined> {
    return this.bucket.get(this.prefix + key);
  }

  getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    return readStart(this.bucket, this.prefix + key, length);
  }

  create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.bucket.create(this.prefix + key, body);
  }

  replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.bucket.replace(this.prefix + key, body, version);
  }

  delete(key: string, version?: string): Promise<void> {
    return this.bucket.delete(this.prefix + key, version);
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return (await this.bucket.list(this.prefix + prefix)).map((entry) => ({ ...entry, key: entry.key.slice(this.prefix.length) }));
  }
}
