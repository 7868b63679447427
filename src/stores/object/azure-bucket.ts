import type { ContainerClient } from '@azure/storage-blob';
import { CheckpointStoreError } from '../../core/errors.js';
import type { ObjectBucket, ObjectEntry, StoredObject } from './bucket.js';
import { bareEtag, loadSdk, quotedEtag } from './sdk.js';
import { SdkBucket } from './sdk-bucket.js';

type AzureModule = typeof import('@azure/storage-blob');

const loadAzure = (location: string): Promise<AzureModule> => loadSdk(() => import('@azure/storage-blob'), 'BlobServiceClient', '@azure/storage-blob', 'az', location);

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

/** Where an Azure checkpoint is, and the client to reach it by. */
export interface AzureBucketOptions {
  /** The container (it must exist). */
  container: string;
  /**
   * A `BlobServiceClient` from `@azure/storage-blob`, e.g. built with `@azure/identity`
   * credentials; else one is made from `AZURE_STORAGE_CONNECTION_STRING`.
   */
  client?: AzureServiceClient | undefined;
}

/** The most sub-requests one blob batch may hold. */
const BATCH_LIMIT = 256;

const codeOf = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;
const statusOf = (error: unknown): number | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : undefined;

async function bodyOf(response: { readableStreamBody?: NodeJS.ReadableStream | undefined }): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody!) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * An Azure Blob Storage container as an {@link ObjectBucket}: every write carries an ETag
 * condition (`If-None-Match: *` to create, `If-Match: <etag>` to replace), and the 409 or 412 a
 * lost condition brings is answered with `undefined`.
 */
export class AzureBucket extends SdkBucket<ContainerClient, AzureBucketOptions> implements ObjectBucket {
  readonly location = `az://${this.options.container}`;

  protected async makeClient(): Promise<ContainerClient> {
    const { client, container } = this.options;
    if (client) return client.getContainerClient(container) as ContainerClient;
    const connectionString = process.env.AZURE_STORAGE_CONNECTION_STRING;
    if (!connectionString) {
      throw new CheckpointStoreError(this.location, 'no credentials: set AZURE_STORAGE_CONNECTION_STRING, or pass `client` (a BlobServiceClient) to AzureBlobStore');
    }
    const azure = await loadAzure(this.location);
    try {
      return azure.BlobServiceClient.fromConnectionString(connectionString, { retryOptions: RETRY_OPTIONS }).getContainerClient(container);
    } catch (error) {
      // The string holds the account key: it is not repeated here.
      throw new CheckpointStoreError(this.location, `AZURE_STORAGE_CONNECTION_STRING is not a connection string the Azure SDK accepts (${(error as Error).message}) — copy it from the storage account's "Access keys" (for Azurite: "UseDevelopmentStorage=true"), or pass \`client\` to AzureBlobStore`, { cause: error });
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.read(key, async (container) => {
      const response = await container.getBlockBlobClient(key).download();
      return { body: await bodyOf(response), version: bareEtag(response.etag) };
    });
  }

  async getStart(key: string, length: number): Promise<Uint8Array | undefined> {
    return this.readStart(key, async (container) => bodyOf(await container.getBlockBlobClient(key).download(0, length)));
  }

  async create(key: string, body: Uint8Array): Promise<string | undefined> {
    return this.#put(key, body, { ifNoneMatch: '*' });
  }

  async replace(key: string, body: Uint8Array, version: string): Promise<string | undefined> {
    return this.#put(key, body, { ifMatch: quotedEtag(version) });
  }

  async #put(key: string, body: Uint8Array, conditions: { ifNoneMatch?: string; ifMatch?: string }): Promise<string | undefined> {
    return this.call('write', key, async (container) => {
      try {
        const response = await container.getBlockBlobClient(key).upload(body, body.byteLength, { conditions });
        return bareEtag(response.etag);
      } catch (error) {
        const status = statusOf(error);
        // 409 BlobAlreadyExists / 412 ConditionNotMet: the condition did not hold. A 404 for
        // If-Match: the blob is gone, which is a lost condition too.
        if (status === 409 || status === 412 || (status === 404 && conditions.ifMatch !== undefined && codeOf(error) === 'BlobNotFound')) return undefined;
        throw error;
      }
    });
  }

  async delete(key: string, version?: string): Promise<void> {
    await this.call('delete', key, async (container) => {
      try {
        await container.getBlockBlobClient(key).deleteIfExists(version === undefined ? {} : { conditions: { ifMatch: quotedEtag(version) } });
      } catch (error) {
        if (statusOf(error) !== 412) throw error;
      }
    });
  }

  /** One blob batch request per 256 keys; a key already gone (404) is no error. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += BATCH_LIMIT) {
      const chunk = keys.slice(start, start + BATCH_LIMIT);
      await this.call('delete', chunk[0]!, async (container) => {
        const response = await container.getBlobBatchClient().deleteBlobs(chunk.map((key) => container.getBlobClient(key)));
        const failed = response.subResponses.find((sub) => sub.status >= 300 && sub.status !== 404);
        if (failed) throw Object.assign(new Error(`${failed.status} ${failed.errorCode ?? failed.statusMessage} deleting ${failed._request.url}`), { statusCode: failed.status, code: failed.errorCode });
      });
    }
  }

  async list(prefix: string): Promise<ObjectEntry[]> {
    return this.call('list', prefix, async (container) => {
      const entries: ObjectEntry[] = [];
      for await (const blob of container.listBlobsFlat({ prefix })) {
        entries.push({ key: blob.name, size: blob.properties.contentLength ?? 0, version: bareEtag(blob.properties.etag) });
      }
      // The service lists in key order already; sorting here makes it a promise of ours.
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  protected hint(error: unknown): string {
    const { container } = this.options;
    return codeOf(error) === 'ContainerNotFound' ? ` — create the container "${container}" first (az storage container create --name ${container})`
      : statusOf(error) === 403 ? ' — check the credentials and their permissions on the container'
      : '';
  }

  /** A 404 for the blob, not for its container (which is an error to report). */
  protected isMissing(error: unknown): boolean {
    return statusOf(error) === 404 && codeOf(error) !== 'ContainerNotFound';
  }

  protected statusOf(error: unknown): number | undefined {
    return statusOf(error);
  }
}
