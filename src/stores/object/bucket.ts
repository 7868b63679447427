/** One object's bytes and its version (an ETag for S3 and Azure, a generation for GCS). */
export interface StoredObject {
  body: Uint8Array;
  version: string;
}

/** A listing entry. */
export interface ObjectEntry {
  key: string;
  size: number;
  version: string;
}

/**
 * The few operations of a bucket the object store needs. Every write is conditional, so that two
 * writers can never both succeed. Transient failures (503, throttling, timeouts, dropped
 * connections) are retried with backoff INSIDE the adapter; what still fails is thrown as a
 * CheckpointStoreError naming the URL. A precondition failure is not an error: it returns undefined.
 */
export interface ObjectBucket {
  /** `az://container/prefix`, `s3://bucket/prefix`, `gs://bucket/prefix`: names it in messages. */
  readonly location: string;
  get(key: string): Promise<StoredObject | undefined>;
  /**
   * Optional: the first `length` (≥ 1) bytes of `key` (all of it when shorter), or undefined if it does
   * not exist, in one ranged read — so that a glance at a large object does not download it.
   * Without it, {@link readStart} reads the object whole and cuts it.
   */
  getStart?(key: string, length: number): Promise<Uint8Array | undefined>;
  /** Creates `key` only if it does not exist; the new version, or undefined if it existed. */
  create(key: string, body: Uint8Array): Promise<string | undefined>;
  /** Replaces `key` only if its version is still `version`; the new version, or undefined. */
  replace(key: string, body: Uint8Array, version: string): Promise<string | undefined>;
  /** Deletes `key` (only at `version` when given); no error if it is already gone. */
  delete(key: string, version?: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectEntry[]>;
  /**
   * Optional: deletes many objects in as few requests as the service allows (Azure's blob batch:
   * 256 a request), with no error for keys already gone. Without it, `delete` is called per key.
   */
  deleteMany?(keys: readonly string[]): Promise<void>;
}

/** The first `length` bytes of `key` (all of it when shorter), or undefined if it does not exist. */
export async function readStart(bucket: ObjectBucket, key: string, length: number): Promise<Uint8Array | undefined> {
  if (bucket.getStart) return bucket.getStart(key, length);
  return (await bucket.get(key))?.body.subarray(0, length);
}

/** Deletes in flight at once, on a bucket without `deleteMany`. */
const DELETE_CONCURRENCY = 4;
/** Keys per `deleteMany` call (Azure's blob batch takes 256). */
const DELETE_BATCH = 256;

/**
 * Deletes `keys`: in batches where the bucket has `deleteMany`, else a few at a time. `check`
 * runs before each request and stops the deleting by throwing (the store: "is the lease still held").
 */
export async function deleteKeys(bucket: ObjectBucket, keys: readonly string[], check: () => void = () => {}): Promise<void> {
  if (bucket.deleteMany) {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      check();
      await bucket.deleteMany(keys.slice(start, start + DELETE_BATCH));
    }
    return;
  }
  let index = 0;
  const worker = async (): Promise<void> => {
    for (let mine = index++; mine < keys.length; mine = index++) {
      check();
      await bucket.delete(keys[mine]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
}
