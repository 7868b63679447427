import type { ObjectBucket } from './bucket.js';

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/**
 * The outcome of a conditional write whose precondition failed may still be ours: an adapter that
 * retried after a dropped connection finds its own first attempt in place. Such an object holds
 * exactly the bytes we wrote (every body this store writes is unique: it carries a sequence range,
 * a run token or a checksum over a fresh document), so it counts as written.
 */
async function ownVersion(bucket: ObjectBucket, key: string, body: Uint8Array): Promise<string | undefined> {
  const found = await bucket.get(key);
  return found && sameBytes(found.body, body) ? found.version : undefined;
}

/** Creates `key`; its version, or `undefined` if another writer's object is there. */
export async function createOwn(bucket: ObjectBucket, key: string, body: Uint8Array): Promise<string | undefined> {
  return (await bucket.create(key, body)) ?? ownVersion(bucket, key, body);
}

/** Replaces `key` at `version`; the new version, or `undefined` if another writer replaced it. */
export async function replaceOwn(bucket: ObjectBucket, key: string, body: Uint8Array, version: string): Promise<string | undefined> {
  return (await bucket.replace(key, body, version)) ?? ownVersion(bucket, key, body);
}
