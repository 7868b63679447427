/**
 * `checkpoint-resume/object-storage`: checkpoints in object storage (`az://`, `s3://`, `gs://`, and the bucket
 * interface other clouds plug into). `CheckpointManager.open({ path: 'az://container/key.json' })`
 * needs nothing from here; import the stores to pass options or a client of your own. Each cloud's
 * SDK is an optional peer dependency, loaded when a store is first opened.
 */
export { ObjectStore } from './stores/object/object-store.js';
export type { CloudStoreOptions, ObjectDurability, ObjectStoreOptions } from './stores/object/object-store-options.js';
export { AzureBlobStore } from './stores/object/azure-blob-store.js';
export type { AzureBlobStoreOptions } from './stores/object/azure-blob-store.js';
export type { AzureServiceClient } from './stores/object/azure-bucket.js';
export { S3Store } from './stores/object/s3-store.js';
export type { S3StoreOptions } from './stores/object/s3-store.js';
export type { S3ClientLike } from './stores/object/s3-bucket.js';
export { GcsStore } from './stores/object/gcs-store.js';
export type { GcsStoreOptions } from './stores/object/gcs-store.js';
export type { GcsStorageLike } from './stores/object/gcs-bucket.js';
export { MemoryBucket } from './stores/object/memory-bucket.js';
export type { ObjectBucket, ObjectEntry, StoredObject } from './stores/object/bucket.js';
