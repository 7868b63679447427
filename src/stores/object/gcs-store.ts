import { GcsBucket, type GcsBucketOptions } from './gcs-bucket.js';
import { GCS } from './clouds.js';
import { ObjectStore } from './object-store.js';
import { clientRule, cloudStoreArguments, cloudStoreRules, type CloudStoreOptions } from './object-store-options.js';

/** The options of {@link GcsStore}: those of every object store, the key, and the bucket with its client. */
export type GcsStoreOptions = CloudStoreOptions & GcsBucketOptions;

const GCS_OPTIONS = cloudStoreRules(GCS, { storage: clientRule('a Storage from @google-cloud/storage', 'bucket') });

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
    super(...cloudStoreArguments(GCS, options, GCS_OPTIONS, ({ bucket, storage }) => new GcsBucket({ bucket, storage })));
  }
}
