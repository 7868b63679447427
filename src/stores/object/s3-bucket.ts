import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';
import { badUrl, bareEtag, loadSdk, quotedEtag } from './sdk.js';
import { SdkBucket } from './sdk-bucket.js';
import { probeConditionalWrites } from './s3-fencing-probe.js';

type S3Module = typeof import('@aws-sdk/client-s3');
/** The client and the SDK's module, whose command classes build the requests. */
interface S3Connection {
  client: S3ClientLike;
  s3: S3Module;
}
type GetObjectResponse = { Body?: { transformToByteArray(): Promise<Uint8Array> }; ETag?: string };

const loadS3 = (location: string): Promise<S3Module> => loadSdk(() => import('@aws-sdk/client-s3'), 'S3Client', '@aws-sdk/client-s3', 's3', location);

/**
 * Transient failures (503 SlowDown, throttling, timeouts, dropped connections) are retried by the
 * SDK's standard retry strategy with exponential backoff; these tries outlast a short outage rather
 * than stop the run (AWS_MAX_ATTEMPTS, when set, wins). A request that hangs is a timeout, retried.
 */
const MAX_ATTEMPTS = 8;
const REQUEST_HANDLER = { connectionTimeout: 10_000, requestTimeout: 60_000 };

/**
 * What the store needs of an `S3Client` from `@aws-sdk/client-s3`. Declared here, so that the
 * package's types do not require the SDK to be installed.
 */
export interface S3ClientLike {
  send(command: unknown): Promise<unknown>;
}

/** Where an S3 checkpoint is, and the client to reach it by. */
export interface S3BucketOptions {
  /** The bucket (it must exist). */
  bucket: string;
  /** Where the fencing probe's object goes (the checkpoint's key: where the credentials surely may write). */
  probePrefix?: string | undefined;
  /**
   * An `S3Client` from `@aws-sdk/client-s3`; else one is made from the SDK's standard
   * configuration (`AWS_REGION`, `AWS_ENDPOINT_URL_S3`, keys, profiles, roles), path-style when
   * `AWS_S3_FORCE_PATH_STYLE=true`.
   */
  client?: S3ClientLike | undefined;
  /**
   * Skip the check, when the store is opened, that the server refuses a conditional write whose
   * condition does not hold (see {@link probeConditionalWrites}). Some S3-compatible servers
   * (s3rver) ignore `If-None-Match` and `If-Match`: the check refuses them, since on them two
   * processes can both write the checkpoint. Set it only if you make sure yourself that one
   * process at a time writes it.
   * @default false
   */
  unsafeSkipFencingProbe?: boolean | undefined;
}


const statusOf = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
const nameOf = (error: unknown): string | undefined => (error as { name?: string } | null)?.name;

/** `AWS_S3_FORCE_PATH_STYLE=true`: the SDK has no variable of its own for it, and S3-compatible servers (MinIO, s3rver) need it. */
export const forcePathStyleFromEnv = (): boolean => /^(1|true|yes)$/i.test(process.env.AWS_S3_FORCE_PATH_STYLE ?? '');

/**
 * An S3 bucket as an {@link ObjectBucket}: every write carries a condition (`If-None-Match: *` to
 * create, `If-Match: <etag>` to replace), and the 412 (or the 409 ConditionalRequestConflict of two
 * racing writes) a lost condition brings is answered with `undefined`. Before its first request it
 * proves that the server enforces those conditions, unless `unsafeSkipFencingProbe: true`.
 */
export class S3Bucket extends SdkBucket<S3Connection, S3BucketOptions> implements ObjectBucket {
  readonly location = `s3://${this.options.bucket}`;

  protected async makeClient(): Promise<S3Connection> {
    const s3 = await loadS3(this.location);
    const client = this.options.client ?? (new s3.S3Client({
      forcePathStyle: forcePathStyleFromEnv(),
      ...(process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: MAX_ATTEMPTS }),
      requestHandler: REQUEST_HANDLER,
    }) as S3Client);
    if (this.options.unsafeSkipFencingProbe !== true) {
      const probeKey = `${this.options.probePrefix ?? ''}.conditions-probe-${randomUUID()}`;
      await this.guard('check conditional writes with', probeKey, () => probeConditionalWrites({ client, s3, bucket: this.options.bucket, key: probeKey, location: this.location }));
    }
    return { client, s3 };
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.read(key, async ({ client, s3 }) => {
      const response = (await client.send(new s3.GetObjectCommand({ Bucket: this.options.bucket, Key: key }))) as GetObjectResponse;
      return { body: new Uint8Array(await response.Body!.transformToByteArray()), version: bareEtag(response.ETag) };
    });
  }

  async getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    return this.readStart(key, async ({ client, s3 }) => {
      const response = (await client.send(new s3.GetObjectCommand({ Bucket: this.options.bucket, Key: key, Range: `bytes=0-${length - 1}` }))) as GetObjectResponse;
      // A server that ignores Range sends it all.
      return (await response.Body!.transformToByteArray()).subarray(0, length);
    });
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.#put(key, body, { IfNoneMatch: '*' });
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.#put(key, body, { IfMatch: quotedEtag(version) });
  }

  async #put(key: string, body: Uint8Array, conditions: { IfNoneMatch?: string; IfMatch?: string }): Promise<string | undefined> {
    return this.call('write', key, async ({ client, s3 }) => {
      try {
        const response = (await client.send(new s3.PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentLength: body.byteLength, ...conditions }))) as { ETag?: string };
        return bareEtag(response.ETag);
      } catch (error) {
        return lostCondition(error, conditions.IfMatch !== undefined) ? undefined : Promise.reject(error);
      }
    });
  }

  async delete(key: string, version?: string): Promise<void> {
    await this.call('delete', key, async ({ client, s3 }) => {
      try {
        // S3 answers 204 for a key that is already gone.
        await client.send(new s3.DeleteObjectCommand({ Bucket: this.options.bucket, Key: key, ...(version === undefined ? {} : { IfMatch: quotedEtag(version) }) }));
      } catch (error) {
        if (!lostCondition(error, version !== undefined)) throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return this.call('list', prefix, async ({ client, s3 }) => {
      const entries: ObjectEntry[] = [];
      let token: string | undefined;
      do {
        const page = (await client.send(new s3.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }))) as {
          Contents?: { Key?: string; Size?: number; ETag?: string }[];
          IsTruncated?: boolean;
          NextContinuationToken?: string;
        };
        for (const object of page.Contents ?? []) entries.push({ key: object.Key!, size: object.Size ?? 0, version: bareEtag(object.ETag) });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      // S3 lists in UTF-8 byte order already; sorting here makes it a promise of ours.
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  protected hint(error: unknown): string {
    const { bucket } = this.options;
    return nameOf(error) === 'NoSuchBucket' ? ` — create the bucket "${bucket}" first (aws s3 mb s3://${bucket})`
      : statusOf(error) === 403 || nameOf(error) === 'CredentialsProviderError' ? ' — check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, a role) and their permissions on the bucket'
      : /region is missing/i.test((error as Error).message) ? ' — set AWS_REGION'
      : badUrl(error) ? ' — check AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL: an endpoint must be an absolute URL such as http://127.0.0.1:9000'
      : '';
  }

  protected isMissing(error: unknown): boolean {
    return nameOf(error) === 'NoSuchKey';
  }

  protected statusOf(error: unknown): number | undefined {
    return statusOf(error);
  }
}

/**
 * 412 PreconditionFailed, or 409 ConditionalRequestConflict (two writes to one key racing): the
 * condition did not hold. With If-Match, a 404 means the object is gone, which is a lost condition too.
 */
function lostCondition(error: unknown, ifMatch: boolean): boolean {
  const status = statusOf(error);
  return status === 412 || (status === 409 && nameOf(error) === 'ConditionalRequestConflict') || (ifMatch && status === 404 && nameOf(error) === 'NoSuchKey');
}
