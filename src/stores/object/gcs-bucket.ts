import type { Bucket, Storage } from '@google-cloud/storage';
import { CheckpointError, CheckpointStoreError } from '../../core/errors.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';

type GcsModule = typeof import('@google-cloud/storage');

/** Loads `@google-cloud/storage` on first use, so that nobody needs it installed who does not use gs:// paths. */
async function loadGcs(location: string): Promise<GcsModule> {
  try {
    const loaded = (await import('@google-cloud/storage')) as GcsModule & { default?: GcsModule };
    return loaded.Storage ? loaded : loaded.default!;
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new CheckpointStoreError(location, 'the "@google-cloud/storage" package is not installed — install @google-cloud/storage to use gs:// paths: npm install @google-cloud/storage', { cause: error });
  }
}

/**
 * Transient failures (429, 5xx, timeouts, dropped connections) are retried by the SDK with
 * exponential backoff; every write here carries `ifGenerationMatch`, which makes it safe to retry,
 * and the SDK's default strategy retries exactly those. These options lengthen it.
 */
const RETRY_OPTIONS = { autoRetry: true, maxRetries: 8, retryDelayMultiplier: 2, maxRetryDelay: 16, totalTimeout: 300 };

/**
 * What the store needs of a `Storage` from `@google-cloud/storage`. Declared here, so that the
 * package's types do not require the SDK to be installed.
 */
export interface GcsStorageLike {
  bucket(name: string): unknown;
}

export interface GcsBucketOptions {
  bucket: string;
  /** A client built by the caller; else one from the SDK's standard configuration (default credentials, STORAGE_EMULATOR_HOST). */
  storage?: GcsStorageLike | undefined;
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** GCS answers 404 for a missing object and a missing bucket alike; the message tells them apart. */
const missingBucket = (error: unknown): boolean => statusOf(error) === 404 && /bucket does not exist/i.test((error as Error).message);

/**
 * A Google Cloud Storage bucket as an {@link ObjectBucket}. Versions are generations: a create
 * is `ifGenerationMatch: 0`, a replace `ifGenerationMatch: <generation>`, and the 412 a lost
 * condition brings is answered with `undefined`. GCS enforces these itself; there is nothing to probe.
 */
export class GcsBucket implements ObjectBucket {
  readonly location: string;
  readonly #options: GcsBucketOptions;
  #bucket: Promise<Bucket> | undefined;

  constructor(options: GcsBucketOptions) {
    this.#options = options;
    this.location = `gs://${options.bucket}`;
  }

  #client(): Promise<Bucket> {
    this.#bucket ??= (async () => {
      if (this.#options.storage) return this.#options.storage.bucket(this.#options.bucket) as Bucket;
      const gcs = await loadGcs(this.location);
      return (new gcs.Storage({ retryOptions: RETRY_OPTIONS }) as Storage).bucket(this.#options.bucket);
    })();
    // A failed load is not kept: the next call tries again (e.g. after the package was installed).
    this.#bucket.catch(() => (this.#bucket = undefined));
    return this.#bucket;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.#call('read', key, async (bucket) => {
      // The bytes are read at the generation the metadata named, so that body and version agree
      // even when the object is replaced between the two requests (then: read again).
      for (;;) {
        try {
          const [metadata] = await bucket.file(key).getMetadata();
          const generation = String(metadata.generation);
          const [body] = await bucket.file(key, { generation }).download({ validation: false });
          return { body: new Uint8Array(body), version: generation };
        } catch (error) {
          if (statusOf(error) !== 404 || missingBucket(error)) throw error;
          if (!(await bucket.file(key).exists())[0]) return undefined;
        }
      }
    });
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.#save(key, body, 0);
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.#save(key, body, Number(version));
  }

  async #save(key: string, body: Uint8Array, ifGenerationMatch: number): Promise<string | undefined> {
    return this.#call('write', key, async (bucket) => {
      const file = bucket.file(key);
      try {
        await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), { resumable: false, validation: false, preconditionOpts: { ifGenerationMatch } });
        return String(file.metadata.generation);
      } catch (error) {
        // 412: the generation did not match (the object exists, was replaced, or is gone).
        if (statusOf(error) === 412) return undefined;
        throw error;
      }
    });
  }

  async delete(key: string, version?: string): Promise<void> {
    await this.#call('delete', key, async (bucket) => {
      try {
        await bucket.file(key).delete({ ignoreNotFound: true, ...(version === undefined ? {} : { ifGenerationMatch: Number(version) }) });
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return this.#call('list', prefix, async (bucket) => {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      const entries = files.map((file) => ({ key: file.name, size: Number(file.metadata.size ?? 0), version: String(file.metadata.generation) }));
      // GCS lists in name order already; sorting here makes it a promise of ours.
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  /** Runs one operation; what still fails after the SDK's retries is a CheckpointStoreError naming the object. */
  async #call<T>(what: string, key: string, run: (bucket: Bucket) => Promise<T>): Promise<T> {
    const bucket = await this.#client();
    try {
      return await run(bucket);
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      const where = `${this.location}/${key}`;
      const message = (error as Error).message.split('\n')[0]!;
      const hint =
        missingBucket(error) ? ` — create the bucket "${this.#options.bucket}" first (gcloud storage buckets create gs://${this.#options.bucket})`
        : statusOf(error) === 401 || statusOf(error) === 403 || /default credentials/i.test(message) ? ' — check the credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS) and their permissions on the bucket'
        : '';
      throw new CheckpointStoreError(where, `could not ${what} it: ${message}${hint}`, { cause: error });
    }
  }
}
