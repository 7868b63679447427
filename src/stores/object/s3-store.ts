import { rules } from '../../core/validate-options.js';
import { S3 } from './clouds.js';
import { ObjectStore } from './object-store.js';
import { clientRule, cloudStoreArguments, cloudStoreRules, type CloudStoreOptions } from './object-store-options.js';
import { S3Bucket, type S3ClientLike } from './s3-bucket.js';

export interface S3StoreOptions extends CloudStoreOptions {
  /** The bucket (it must exist). */
  bucket: string;
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
