/**
 * What each cloud calls its bucket and its objects, its rule for bucket names, and the store class
 * for it: one place for the store classes' option checks and for the messages about bucket URLs.
 */
export interface Cloud {
  /** The store class, as messages name it. */
  store: string;
  /** The store class's option naming the bucket (Azure's `container`). */
  bucketOption: string;
  /** The cloud's rule for bucket names, and how a message says it. */
  bucketName: RegExp;
  expected: string;
  /** What the cloud calls an object. */
  object: string;
}

// Azure: 3 to 63 lowercase letters, digits and single hyphens. GCS: up to 63 without dots, 222 with them.
export const AZURE: Cloud = { store: 'AzureBlobStore', bucketOption: 'container', bucketName: /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/, expected: 'an Azure container name (3 to 63 lowercase letters, digits and hyphens)', object: 'a blob name' };
export const S3: Cloud = { store: 'S3Store', bucketOption: 'bucket', bucketName: /^(?=.{3,63}$)[a-z0-9][a-z0-9.-]*[a-z0-9]$/, expected: 'an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)', object: 'an object key' };
export const GCS: Cloud = { store: 'GcsStore', bucketOption: 'bucket', bucketName: /^(?=.{3,222}$)[a-z0-9][a-z0-9._-]*[a-z0-9]$/, expected: 'a GCS bucket name (3 to 63 lowercase letters, digits, dots, hyphens and underscores)', object: 'an object name' };

/** Each cloud by its URL scheme. */
export const CLOUDS_BY_SCHEME: Readonly<Record<string, Cloud>> = { az: AZURE, s3: S3, gs: GCS };
