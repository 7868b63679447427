import { CheckpointArgumentError, describeValue } from '../../core/errors.js';
import { pickOptions, rejectOptionsWith } from '../../core/validate-options.js';
import type { CheckpointStore } from '../store.js';
import { AzureBlobStore } from './azure-blob-store.js';
import { GcsStore } from './gcs-store.js';
import { S3Store } from './s3-store.js';
import { OBJECT_STORE_OPTIONS, SHARED_WITH_FILE_STORES, type ObjectStoreOptions } from './object-store-options.js';

/** `scheme://bucket/key`, split. */
export interface ObjectUrl {
  scheme: string;
  bucket: string;
  key: string;
}

/** Makes the store of one URL scheme. The store loads its SDK when it is opened, not here. */
export type ObjectStoreFactory = (url: ObjectUrl, options: ObjectStoreOptions) => CheckpointStore;

/** The object-storage URL schemes `path` accepts, and the store each one makes. */
export const OBJECT_STORES_BY_SCHEME: Record<string, ObjectStoreFactory> = {
  az: (url, options) => new AzureBlobStore({ ...options, container: url.bucket, key: url.key }),
  s3: (url, options) => new S3Store({ ...options, bucket: url.bucket, key: url.key }),
  gs: (url, options) => new GcsStore({ ...options, bucket: url.bucket, key: url.key }),
};

/** Options of CheckpointManager.open that only file stores have: with a bucket URL they would be ignored. */
const FILE_ONLY_OPTIONS = ['fsyncIntervalMs', 'backups', 'lock'] as const;

/** Whether `path` is a URL (`scheme://…`) rather than a file path. */
export const isUrl = (path: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(path);

/**
 * The store for an object-storage URL such as `az://container/runs/42/checkpoint.json`, taking
 * the options of CheckpointManager.open that apply to buckets.
 * @throws CheckpointArgumentError for an unknown scheme, a URL without a key, or file-only options
 */
export function objectStoreForUrl(path: string, options: Record<string, unknown>): CheckpointStore {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)\/(.+)$/i.exec(path);
  const scheme = match?.[1]!.toLowerCase() ?? path.slice(0, path.indexOf(':')).toLowerCase();
  const factory = Object.hasOwn(OBJECT_STORES_BY_SCHEME, scheme) ? OBJECT_STORES_BY_SCHEME[scheme] : undefined;
  const schemes = Object.keys(OBJECT_STORES_BY_SCHEME).map((known) => `${known}://`).join(', ');
  if (!factory) throw new CheckpointArgumentError(`Expected \`path\` to be a file path or a URL starting with ${schemes}, got ${describeValue(path)}`);
  if (!match) throw new CheckpointArgumentError(`Expected \`path\` to be ${scheme}://<bucket>/<key>.json (or .yaml), got ${describeValue(path)}`);
  rejectOptionsWith({ ...options, [path]: true }, path, FILE_ONLY_OPTIONS, 'they only apply to checkpoint files; buckets take durability, batchSize, batchIntervalMs, minCompactBytes and snapshotIntervalMs, and the store classes take the rest');
  const storeOptions = pickOptions(options, Object.fromEntries(SHARED_WITH_FILE_STORES.map((key) => [key, OBJECT_STORE_OPTIONS[key]])));
  return factory({ scheme, bucket: match[2]!, key: decodeURIComponent(match[3]!) }, storeOptions);
}
