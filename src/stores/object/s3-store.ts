import { rules } from '../../core/validate-options.js';
import { S3 } from './clouds.js';
import { ObjectStore } from './object-store.js';
import { clientRule, cloudStoreArguments, cloudStoreRules, type CloudStoreOptions } from './object-store-options.js';
import { S3Bucket, type S3BucketOptions } from './s3-bucket.js';

/** The options of {@link S3Store}: those of every object store, the key, and the bucket with its client. */
export type S3StoreOptions = CloudStoreOptions & Omit<S3BucketOptions, 'probePrefix'>;

const S3_OPTIONS = cloudStoreRules(S3, { client: clientRule('an S3Client', 'send'), unsafeSkipFencingProbe: rules.boolean });

/**
 * A checkpoint in Amazon S3 or an S3-compatible service (`s3://bucket/key.json`): see
 * {@link ObjectStore}. Needs the optional package `@aws-sdk/client-s3`, loaded when the store is
 * first opened; refuses a server that does not enforce conditional writes (see `unsafeSkipFencingProbe`).
 *
 * @example
 * const store = new S3Store({ bucket: 'runs', key: 'train/checkpoint.json', durability: 'full' });
 * const cp = await CheckpointManager.open({ store, pipeline: 'train' });
 */
export class S3Store extends ObjectStore {
  constructor(options: S3StoreOptions) {
    super(...cloudStoreArguments(S3, options, S3_OPTIONS, ({ bucket, key, client, unsafeSkipFencingProbe }) => new S3Bucket({ bucket, client, unsafeSkipFencingProbe, probePrefix: key })));
  }
}
