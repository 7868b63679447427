import { rule } from '../../core/validate-options.js';
import { snapshotFormatFor } from '../file/read-checkpoint.js';
import { AzureBucket, type AzureServiceClient } from './azure-bucket.js';
import { ObjectStore } from './object-store.js';
import { checkCloudStoreOptions, cloudStoreRules, type ObjectStoreOptions } from './object-store-options.js';

export interface AzureBlobStoreOptions extends ObjectStoreOptions {
  /** The container (it must exist). */
  container: string;
  /** The snapshot blob's name, ending in `.json`, `.yaml` or `.yml`; the other objects go beside it. */
  key: string;
  /**
   * A `BlobServiceClient` from `@azure/storage-blob`, e.g. built with `@azure/identity`
   * credentials; else one is made from `AZURE_STORAGE_CONNECTION_STRING`.
   */
  client?: AzureServiceClient;
}

/** Azure's rule for container names: 3 to 63 lowercase letters, digits and single hyphens. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

const AZURE_OPTIONS = cloudStoreRules(
  { option: 'container', expected: 'an Azure container name (3 to 63 lowercase letters, digits and hyphens)', name: CONTAINER_NAME, object: 'a blob name' },
  { client: rule('a BlobServiceClient (with a getContainerClient function)', (value) => typeof (value as { getContainerClient?: unknown } | null)?.getContainerClient === 'function') },
);

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
    checkCloudStoreOptions(options, AZURE_OPTIONS, 'AzureBlobStore');
    const { container, key, client, ...storeOptions } = options;
    super(new AzureBucket({ container, client }), key, snapshotFormatFor(key), storeOptions, 'AzureBlobStore');
  }
}
