import { rule, rules } from '../../core/validate-options.js';
import { snapshotFormatFor } from '../file/read-checkpoint.js';
import { ObjectStore } from './object-store.js';
import { checkCloudStoreOptions, cloudStoreRules, type ObjectStoreOptions } from './object-store-options.js';
import { S3Bucket, type S3ClientLike } from './s3-bucket.js';

export interface S3StoreOptions extends ObjectStoreOptions {
  /** The bucket (it must exist). */
  bucket: string;
  /** The snapshot object's key, ending in `.json`, `.yaml` or `.yml`; the other objects go beside it. */
  key: string;
  /**
   * An `S3Client` from `@aws-sdk/client-s3`; else one is made from the SDK's standard
   * configuration (`AWS_REGION`, `AWS_ENDPOINT_URL_S3`, keys, profiles, roles), path-style when
   * `AWS_S3_FORCE_PATH_STYLE=true`.
   */
  client?: S3ClientLike;
  /**
   * Skip the check, when the store is opened, that the server refuses a conditional write whose
   * condition does not hold. Some S3-compatible servers (s3rver) ignore `If-None-Match` and
   * `If-Match`: the check refuses them, since on them two processes can both write the checkpoint.
   * Set it only if you make sure yourself that one process at a time writes it.
   * @default false
   */
  unsafeSkipFencingProbe?: boolean;
}

/** S3's rule for bucket names: 3 to 63 lowercase letters, digits, dots and hyphens. */
const BUCKET_NAME = /^(?=.{3,63}$)[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

const S3_OPTIONS = cloudStoreRules(
  { option: 'bucket', expected: 'an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)', name: BUCKET_NAME, object: 'an object key' },
  {
    client: rule('an S3Client (with a send function)', (value) => typeof (value as { send?: unknown } | null)?.send === 'function'),
    unsafeSkipFencingProbe: rules.boolean,
  },
);

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
    checkCloudStoreOptions(options, S3_OPTIONS, 'S3Store');
    const { bucket, key, client, unsafeSkipFencingProbe, ...storeOptions } = options;
    super(new S3Bucket({ bucket, client, unsafeSkipFencingProbe, probePrefix: key }), key, snapshotFormatFor(key), storeOptions, 'S3Store');
  }
}
