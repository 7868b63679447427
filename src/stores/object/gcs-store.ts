import { rule } from '../../core/validate-options.js';
import { snapshotFormatFor } from '../file/read-checkpoint.js';
import { GcsBucket, type GcsStorageLike } from './gcs-bucket.js';
import { ObjectStore } from './object-store.js';
import { checkCloudStoreOptions, cloudStoreRules, type ObjectStoreOptions } from './object-store-options.js';

export interface GcsStoreOptions extends ObjectStoreOptions {
  /** The bucket (it must exist). */
  bucket: string;
  /** The snapshot object's name, ending in `.json`, `.yaml` or `.yml`; the other objects go beside it. */
  key: string;
  /**
   * A `Storage` from `@google-cloud/storage`; else one is made from the SDK's standard
   * configuration (application default credentials, `GOOGLE_APPLICATION_CREDENTIALS`,
   * `STORAGE_EMULATOR_HOST`).
   */
  storage?: GcsStorageLike;
}

/** GCS's rule for bucket names (without dots): 3 to 63 lowercase letters, digits, hyphens and underscores. */
const BUCKET_NAME = /^(?=.{3,222}$)[a-z0-9][a-z0-9._-]*[a-z0-9]$/;

const GCS_OPTIONS = cloudStoreRules(
  { option: 'bucket', expected: 'a GCS bucket name (3 to 63 lowercase letters, digits, dots, hyphens and underscores)', name: BUCKET_NAME, object: 'an object name' },
  { storage: rule('a Storage from @google-cloud/storage (with a bucket function)', (value) => typeof (value as { bucket?: unknown } | null)?.bucket === 'function') },
);

/**
 * A checkpoint in Google Cloud Storage (`gs://bucket/key.json`): see {@link ObjectStore}. Needs
 * the optional package `@google-cloud/storage`, loaded when the store is first opened.
 *
 * @example
 * const store = new GcsStore({ bucket: 'runs', key: 'train/checkpoint.json', durability: 'full' });
 * const cp = await CheckpointManager.open({ store, pipeline: 'train' });
 */
export class GcsStore extends ObjectStore {
  constructor(options: GcsStoreOptions) {
    checkCloudStoreOptions(options, GCS_OPTIONS, 'GcsStore');
    const { bucket, key, storage, ...storeOptions } = options;
    super(new GcsBucket({ bucket, storage }), key, snapshotFormatFor(key), storeOptions, 'GcsStore');
  }
}
