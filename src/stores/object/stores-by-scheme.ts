import { CheckpointArgumentError, describeValue } from '../../core/errors.js';
import { pickOptions, type OptionRules } from '../../core/validate-options.js';
import type { CheckpointStore } from '../store.js';
import { hasUnsafeCharacter, hasUnsafeSegment } from './object-keys.js';
import { AzureBlobStore } from './azure-blob-store.js';
import { AzureBucket } from './azure-bucket.js';
import type { ObjectBucket } from './bucket.js';
import { CLOUDS_BY_SCHEME } from './clouds.js';
import { GcsBucket } from './gcs-bucket.js';
import { GcsStore } from './gcs-store.js';
import { S3Bucket } from './s3-bucket.js';
import { S3Store } from './s3-store.js';
import { FILE_ONLY_OPTIONS, OBJECT_STORE_OPTIONS, rejectFileOnlyOptions, SHARED_WITH_FILE_STORES, type ObjectStoreOptions } from './object-store-options.js';

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

/**
 * The bucket of each scheme, for reading only (the CLI's status, inspect, validate, list): no
 * lease is taken and nothing is written, so an S3 bucket skips its fencing probe, which writes.
 */
const READ_ONLY_BUCKETS_BY_SCHEME: Record<string, (bucket: string) => ObjectBucket> = {
  az: (container) => new AzureBucket({ container }),
  s3: (bucket) => new S3Bucket({ bucket, unsafeSkipFencingProbe: true }),
  gs: (bucket) => new GcsBucket({ bucket }),
};

const BUCKET_SCHEME = new RegExp(`^(?:${Object.keys(OBJECT_STORES_BY_SCHEME).join('|')}):`, 'i');

/**
 * Whether `path` starts with a bucket's scheme, `az:`, `s3:` or `gs:`: a bucket URL, or one
 * mistyped with too few slashes (`az:/x.json`) or with spaces before it, which `parseObjectUrl`
 * refuses instead of letting it quietly become a local file (a file of such a name is reached as
 * `./az:…`).
 */
export const isBucketUrl = (path: string): boolean => BUCKET_SCHEME.test(path.trimStart());

/** Whether `path` is a URL (`scheme://…`, or a bucket's, see isBucketUrl) rather than a file path. */
export const isUrl = (path: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(path.trimStart()) || isBucketUrl(path);

/**
 * Splits `scheme://bucket/key` (the key may be empty, for a prefix). The key is URL-decoded.
 * `what` and `shape` name the argument and what it should look like, for messages.
 * @throws CheckpointArgumentError for an unknown scheme or a URL without a bucket
 */
export function parseObjectUrl(path: string, what = '`path`', shape = '<key>.json (or .yaml)'): ObjectUrl {
  if (path.trim() !== path) {
    throw new CheckpointArgumentError(`Expected ${what} without spaces around the URL, got ${describeValue(path)} — remove them; a local file of that name is reached as "./${path}"`);
  }
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)(?:\/(.*))?$/is.exec(path);
  const scheme = match?.[1]!.toLowerCase() ?? path.slice(0, Math.max(0, path.indexOf(':'))).toLowerCase();
  if (!Object.hasOwn(OBJECT_STORES_BY_SCHEME, scheme)) {
    const schemes = Object.keys(OBJECT_STORES_BY_SCHEME).map((known) => `${known}://`).join(', ');
    throw new CheckpointArgumentError(`Expected ${what} to be a file path or a URL starting with ${schemes}, got ${describeValue(path)}`);
  }
  if (!match) {
    const typo = path.includes('://') ? '' : `; a local file of that name is ./${path}`;
    throw new CheckpointArgumentError(`Expected ${what} to be ${scheme}://<bucket>/${shape}, got ${describeValue(path)}${typo}`);
  }
  if (match[3]?.startsWith('/')) {
    throw new CheckpointArgumentError(`Expected ${what} to have one slash between the bucket and the key, got ${describeValue(path)} — write ${scheme}://${match[2]}/${match[3].replace(/^\/+/, '')}`);
  }
  let key: string;
  try {
    key = decodeURIComponent(match[3] ?? '');
  } catch {
    throw new CheckpointArgumentError(`Expected ${what} to have valid percent-escapes in its key (%25 for a "%"), got ${describeValue(path)}`);
  }
  // Cloud SDKs resolve `.` and `..` in the request URL: the objects would not be where they are read.
  // A prefix to list may end in "/"; a checkpoint's key is checked again, whole, by isSnapshotKey.
  if (key !== '' && hasUnsafeSegment(key.replace(/\/$/, ''))) {
    throw new CheckpointArgumentError(`Expected ${what} to have no empty, "." or ".." path segments in its key, got ${describeValue(path)} — the cloud's SDK would resolve them, and the checkpoint's objects would not be where they are read; write the key as it is meant`);
  }
  if (hasUnsafeCharacter(key)) {
    throw new CheckpointArgumentError(`Expected ${what} to have no backslash or control character (a NUL, a newline…) in its key, got ${describeValue(path)} — the cloud's SDK would not send it as written, and the checkpoint's objects would not be where they are read; use "/" between the parts of a key`);
  }
  return { scheme, bucket: match[2]!, key };
}

/** A bucket to read the checkpoints of `url` from, without a lease and without writing. */
export function readOnlyBucket(url: ObjectUrl): ObjectBucket {
  return READ_ONLY_BUCKETS_BY_SCHEME[url.scheme]!(url.bucket);
}

/**
 * Checks what only a bucket URL `path` rules out, before the options' general check: a file-only
 * option is refused, and an option only the store classes take (`leaseTtlMs`, `maxSegments`…)
 * names the store to make instead.
 * @returns `optionRules` without the file-only options, so that an unknown option's message
 *   lists only what a URL takes
 * @throws CheckpointArgumentError naming the option and what to do
 */
export function bucketPathRules(path: string, options: Record<string, unknown>, optionRules: OptionRules): OptionRules {
  const url = parseObjectUrl(path);
  rejectFileOnlyOptions(options, path, SHARED_WITH_FILE_STORES);
  const storeOnly = Object.keys(OBJECT_STORE_OPTIONS).find((key) => !(SHARED_WITH_FILE_STORES as readonly string[]).includes(key) && options[key] !== undefined);
  if (storeOnly !== undefined) {
    const { store, bucketOption } = CLOUDS_BY_SCHEME[url.scheme]!;
    throw new CheckpointArgumentError(`\`${storeOnly}\` is an option of ${store}, not of a bucket URL — pass \`store: new ${store}({ ${bucketOption}: '${url.bucket}', key: '${url.key}', ${storeOnly} })\` instead of \`path: '${path}'\``);
  }
  return Object.fromEntries(Object.entries(optionRules).filter(([key]) => !(FILE_ONLY_OPTIONS as readonly string[]).includes(key)));
}

/**
 * The store for an object-storage URL such as `az://container/runs/42/checkpoint.json`, taking
 * the options of CheckpointManager.open that apply to buckets.
 * @throws CheckpointArgumentError for an unknown scheme, a URL without a key, or file-only options
 */
export function objectStoreForUrl(path: string, options: Record<string, unknown>): CheckpointStore {
  const url = parseObjectUrl(path);
  if (url.key === '') throw new CheckpointArgumentError(`Expected \`path\` to be ${url.scheme}://<bucket>/<key>.json (or .yaml), got ${describeValue(path)}`);
  bucketPathRules(path, options, {});
  const storeOptions = pickOptions(options, Object.fromEntries(SHARED_WITH_FILE_STORES.map((key) => [key, OBJECT_STORE_OPTIONS[key]])));
  return OBJECT_STORES_BY_SCHEME[url.scheme]!(url, storeOptions);
}
