import { CheckpointStoreError } from '../../core/errors.js';
import type { S3ClientLike } from './s3-bucket.js';

type S3Module = typeof import('@aws-sdk/client-s3');

export interface FencingProbeTarget {
  client: S3ClientLike;
  s3: S3Module;
  bucket: string;
  /** A key of its own (random), created and deleted by the probe. */
  key: string;
  location: string;
}

const statusOf = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

/** Where requests go, for the message: the client's endpoint, the one the SDK takes from the environment, or AWS's own. */
async function endpointOf(client: S3ClientLike): Promise<string> {
  const endpoint = (client as { config?: { endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path?: string }> } }).config?.endpoint;
  if (typeof endpoint !== 'function') return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || 'of AWS S3';
  const { protocol, hostname, port, path } = await endpoint();
  return `${protocol}//${hostname}${port === undefined ? '' : `:${port}`}${path && path !== '/' ? path : ''}`;
}

/**
 * Proves that the server enforces the conditions the single-writer guarantee stands on. Some
 * S3-compatible servers (s3rver) accept `If-None-Match: *` and `If-Match` and overwrite anyway: on
 * them a second writer would silently replace the lease and the segments of the first. The probe
 * creates an object of its own, then tries to create it again and to replace it at a wrong ETag —
 * both must be refused — and deletes it. Two requests more than nothing, once per store opened.
 * @throws CheckpointStoreError naming the endpoint and what it let through
 */
export async function probeConditionalWrites(target: FencingProbeTarget): Promise<void> {
  const { client, s3, bucket, key } = target;
  const put = async (conditions: { IfNoneMatch?: string; IfMatch?: string }, body: string): Promise<'written' | 'refused'> => {
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...conditions }));
      return 'written';
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) return 'refused';
      throw error;
    }
  };
  const ignored: string[] = [];
  if ((await put({ IfNoneMatch: '*' }, 'first')) === 'refused') {
    throw new CheckpointStoreError(`${target.location}/${key}`, 'the fencing probe could not create its own object (a new random key): the server refused If-None-Match: * on a key that did not exist');
  }
  try {
    if ((await put({ IfNoneMatch: '*' }, 'second')) === 'written') ignored.push('a PUT with If-None-Match: * overwrote an existing object');
    if ((await put({ IfMatch: '"0123456789abcdef0123456789abcdef"' }, 'third')) === 'written') ignored.push('a PUT with an If-Match of a wrong ETag was accepted');
  } finally {
    await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  if (ignored.length > 0) {
    throw new CheckpointStoreError(
      target.location,
      `the S3 endpoint ${await endpointOf(client)} does not enforce conditional writes (${ignored.join('; ')}): two processes could both write this checkpoint and lose each other's marks — ` +
        'use a server that enforces them (AWS S3, MinIO), or, only if you make sure yourself that one process at a time writes it, pass unsafeSkipFencingProbe: true to S3Store',
    );
  }
}
