import type { Bucket, Storage } from '@google-cloud/storage';
import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';
import { badUrl, loadSdk } from './sdk.js';
import { SdkBucket } from './sdk-bucket.js';

type GcsModule = typeof import('@google-cloud/storage');

const loadGcs = (location: string): Promise<GcsModule> => loadSdk(() => import('@google-cloud/storage'), 'Storage', '@google-cloud/storage', 'gs', location);

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

/** Where a GCS checkpoint is, and the client to reach it by. */
export interface GcsBucketOptions {
  /** The bucket (it must exist). */
  bucket: string;
  /**
   * A `Storage` from `@google-cloud/storage`; else one is made from the SDK's standard
   * configuration (application default credentials, `GOOGLE_APPLICATION_CREDENTIALS`,
   * `STORAGE_EMULATOR_HOST`).
   */
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
export class GcsBucket extends SdkBucket<Bucket, GcsBucketOptions> implements ObjectBucket {
  readonly location = `gs://${this.options.bucket}`;

  protected async makeClient(): Promise<Bucket> {
    const { storage, bucket } = this.options;
    if (storage) return storage.bucket(bucket) as Bucket;
    const gcs = await loadGcs(this.location);
    return (new gcs.Storage({ retryOptions: RETRY_OPTIONS }) as Storage).bucket(bucket);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.call('read', key, async (bucket) => {
      // The bytes are read at the generation the metadata named, so that body and version agree
      // even when the object is replaced between the two requests (then: read again).
      for (;;) {
        try {
          const [metadata] = await bucket.file(key).getMetadata();
          const generation = String(metadata.generation);
          const [body] = await bucket.file(key, { generation }).download({ validation: false });
          return { body: new Uint8Array(body), version: generation };
        } catch (error) {
          if (!this.isMissing(error)) throw error;
          if (!(await bucket.file(key).exists())[0]) return undefined;
        }
      }
    });
  }

  async getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    return this.readStart(key, async (bucket) => {
      const [body] = await bucket.file(key).download({ start: 0, end: length - 1, validation: false });
      return new Uint8Array(body).subarray(0, length);
    });
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.#save(key, body, 0);
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.#save(key, body, Number(version));
  }

  async #save(key: string, body: Uint8Array, ifGenerationMatch: number): Promise<string | undefined> {
    return this.call('write', key, async (bucket) => {
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
    await this.call('delete', key, async (bucket) => {
      try {
        await bucket.file(key).delete({ ignoreNotFound: true, ...(version === undefined ? {} : { ifGenerationMatch: Number(version) }) });
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return this.call('list', prefix, async (bucket) => {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      const entries = files.map((file) => ({ key: file.name, size: Number(file.metadata.size ?? 0), version: String(file.metadata.generation) }));
      // GCS lists in name order already; sorting here makes it a promise of ours.
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  protected hint(error: unknown): string {
    const { bucket } = this.options;
    return missingBucket(error) ? ` — create the bucket "${bucket}" first (gcloud storage buckets create gs://${bucket})`
      : statusOf(error) === 401 || statusOf(error) === 403 || /default credentials/i.test((error as Error).message) ? ' — check the credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS) and their permissions on the bucket'
      : badUrl(error) ? ' — check STORAGE_EMULATOR_HOST: an emulator must be given as an absolute URL such as http://127.0.0.1:4443'
      : '';
  }

  protected isMissing(error: unknown): boolean {
    return statusOf(error) === 404 && !missingBucket(error);
  }

  protected statusOf(error: unknown): number | undefined {
    return statusOf(error);
  }
}
