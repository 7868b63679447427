import type { ContainerClient } from '@azure/storage-blob';
import { CheckpointError, CheckpointStoreError } from '../../core/errors.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';

type AzureModule = typeof import('@azure/storage-blob');

/** Loads `@azure/storage-blob` on first use, so that nobody needs it installed who does not use az:// paths. */
async function loadAzure(location: string): Promise<AzureModule> {
  try {
    const loaded = (await import('@azure/storage-blob')) as AzureModule & { default?: AzureModule };
    return loaded.BlobServiceClient ? loaded : loaded.default!;
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new CheckpointStoreError(location, 'the "@azure/storage-blob" package is not installed — install @azure/storage-blob to use az:// paths: npm install @azure/storage-blob', { cause: error });
  }
}

/**
 * Transient failures (503, throttling, timeouts, dropped connections) are retried by the SDK's
 * own exponential retry policy, which these options lengthen: a checkpoint write should outlast a
 * short outage rather than stop the run.
 */
const RETRY_OPTIONS = { maxTries: 8, retryDelayInMs: 200, maxRetryDelayInMs: 10_000, tryTimeoutInMs: 60_000 };

/**
 * What the store needs of a `BlobServiceClient` from `@azure/storage-blob`. Declared here, so that
 * the package's types do not require the SDK to be installed.
 */
export interface AzureServiceClient {
  getContainerClient(containerName: string): unknown;
}

export interface AzureBucketOptions {
  container: string;
  /** A client built by the caller (with its own credentials); else one from `AZURE_STORAGE_CONNECTION_STRING`. */
  client?: AzureServiceClient | undefined;
}

/** Versions are ETags without their quotes (listings give them bare, responses quoted); conditions quote them again. */
const bare = (etag: string | undefined): string => (etag ?? '').replace(/^"(.*)"$/, '$1');
const quoted = (version: string): string => `"${bare(version)}"`;

const statusOf = (error: unknown): number | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : undefined;

/**
 * An Azure Blob Storage container as an {@link ObjectBucket}: every write carries an ETag
 * condition (`If-None-Match: *` to create, `If-Match: <etag>` to replace), and the 409 or 412 a
 * lost condition brings is answered with `undefined`.
 */
export class AzureBucket implements ObjectBucket {
  readonly location: string;
  readonly #options: AzureBucketOptions;
  #container: Promise<ContainerClient> | undefined;

  constructor(options: AzureBucketOptions) {
    this.#options = options;
    this.location = `az://${options.container}`;
  }

  #client(): Promise<ContainerClient> {
    this.#container ??= (async () => {
      if (this.#options.client) return this.#options.client.getContainerClient(this.#options.container) as ContainerClient;
      const connectionString = process.env.AZURE_STORAGE_CONNECTION_STRING;
      if (!connectionString) {
        throw new CheckpointStoreError(this.location, 'no credentials: set AZURE_STORAGE_CONNECTION_STRING, or pass `client` (a BlobServiceClient) to AzureBlobStore');
      }
      const azure = await loadAzure(this.location);
      return azure.BlobServiceClient.fromConnectionString(connectionString, { retryOptions: RETRY_OPTIONS }).getContainerClient(this.#options.container);
    })();
    // A failed load is not kept: the next call tries again (e.g. after the package was installed).
    this.#container.catch(() => (this.#container = undefined));
    return this.#container;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.#call('read', key, async (container) => {
      try {
        const response = await container.getBlockBlobClient(key).download();
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody!) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
        return { body: new Uint8Array(Buffer.concat(chunks)), version: bare(response.etag) };
      } catch (error) {
        if (statusOf(error) === 404 && (error as { code?: string }).code !== 'ContainerNotFound') return undefined;
        throw error;
      }
    });
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.#put(key, body, { ifNoneMatch: '*' });
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.#put(key, body, { ifMatch: quoted(version) });
  }

  async #put(key: string, body: Uint8Array, conditions: { ifNoneMatch?: string; ifMatch?: string }): Promise<string | undefined> {
    return this.#call('write', key, async (container) => {
      try {
        const response = await container.getBlockBlobClient(key).upload(body, body.byteLength, { conditions });
        return bare(response.etag);
      } catch (error) {
        const status = statusOf(error);
        // 409 BlobAlreadyExists / 412 ConditionNotMet: the condition did not hold. A 404 for
        // If-Match: the blob is gone, which is a lost condition too.
        if (status === 409 || status === 412 || (status === 404 && conditions.ifMatch !== undefined && (error as { code?: string }).code === 'BlobNotFound')) return undefined;
        throw error;
      }
    });
  }

  async delete(key: string, version?: string): Promise<void> {
    await this.#call('delete', key, async (container) => {
      try {
        await container.getBlockBlobClient(key).deleteIfExists(version === undefined ? {} : { conditions: { ifMatch: quoted(version) } });
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return this.#call('list', prefix, async (container) => {
      const entries: ObjectEntry[] = [];
      for await (const blob of container.listBlobsFlat({ prefix })) {
        entries.push({ key: blob.name, size: blob.properties.contentLength ?? 0, version: bare(blob.properties.etag) });
      }
      // The service lists in key order already; sorting here makes it a promise of ours.
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  /** Runs one operation; what still fails after the SDK's retries is a CheckpointStoreError naming the object. */
  async #call<T>(what: string, key: string, run: (container: ContainerClient) => Promise<T>): Promise<T> {
    const container = await this.#client();
    try {
      return await run(container);
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      const where = `${this.location}/${key}`;
      const code = (error as { code?: string }).code;
      const hint = code === 'ContainerNotFound' ? ` — create the container "${this.#options.container}" first (az storage container create --name ${this.#options.container})` : statusOf(error) === 403 ? ' — check the credentials and their permissions on the container' : '';
      throw new CheckpointStoreError(where, `could not ${what} it: ${(error as Error).message.split('\n')[0]}${hint}`, { cause: error });
    }
  }
}
