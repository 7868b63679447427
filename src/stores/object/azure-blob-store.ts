import { AzureBucket, type AzureBucketOptions } from './azure-bucket.js';
import { AZURE } from './clouds.js';
import { ObjectStore } from './object-store.js';
import { clientRule, cloudStoreArguments, cloudStoreRules, type CloudStoreOptions } from './object-store-options.js';

/** The options of {@link AzureBlobStore}: those of every object store, the key, and the container with its client. */
export type AzureBlobStoreOptions = CloudStoreOptions & AzureBucketOptions;

const AZURE_OPTIONS = cloudStoreRules(AZURE, { client: clientRule('a BlobServiceClient', 'getContainerClient') });

/**
 * A checkpoint in Azure Blob Storage (`az://container/key.json`): see {@link ObjectStore}. Needs
 * the optional package `@azure/storage-blob`, loaded when the store is first opened.
 *
 * @example
 * const store = new AzureBlobStore({ container: 'runs', key: 'train/checkpoint.json', durability: 'full' });
 * const cp = await CheckpointManager.open({ store, pipeline: 'train' });
 */
export class AzureBlobStore extends ObjectStore {
  constructor(options: AzureBlobStoreOptions) {
    super(...cloudStoreArguments(AZURE, options, AZURE_OPTIONS, ({ container, client }) => new AzureBucket({ container, client })));
  }
}
