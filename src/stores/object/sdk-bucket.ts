import { lazily, request } from './sdk.js';

/**
 * What the cloud adapters share: a location (`az://container`), the SDK's client made on first
 * use (and made again after a failure: the package installed, the credentials set), and one way
 * to run a request, which turns what still fails after the SDK's own retries into a
 * CheckpointStoreError naming the object, with the cloud's hint of what to do about it.
 */
export abstract class SdkBucket<Client, Options> {
  /** `az://container`, `s3://bucket`, `gs://bucket`: names the bucket in messages. */
  abstract readonly location: string;
  /** What the bucket was made with: its name, and the caller's client if there is one. */
  protected readonly options: Options;
  readonly #client: () => Promise<Client>;

  constructor(options: Options) {
    this.options = options;
    this.#client = lazily(() => this.makeClient());
  }

  /** The SDK's client for this bucket: the SDK loaded, the credentials read. */
  protected abstract makeClient(): Promise<Client>;
  /** What to do about `error` (` — create the bucket…`), after the SDK's first line; '' for nothing. */
  protected abstract hint(error: unknown): string;
  /** Whether `error` says the object does not exist (and not that its bucket does not). */
  protected abstract isMissing(error: unknown): boolean;
  /** The HTTP status `error` carries, if any. */
  protected abstract statusOf(error: unknown): number | undefined;

  /** Runs one operation on `key` with the client. */
  protected async call<T>(what: string, key: string, run: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.#client();
    return this.guard(what, key, () => run(client));
  }

  /** Runs one request on `key` (with or without the client), reporting what fails as the object's error. */
  protected guard<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
    return request(`${this.location}/${key}`, what, run, (error) => this.hint(error));
  }

  /** Reads `key` with `read`; undefined when it does not exist. */
  protected read<T>(key: string, read: (client: Client) => Promise<T>): Promise<T | undefined> {
    return this.call('read', key, async (client) => {
      try {
        return await read(client);
      } catch (error) {
        if (this.isMissing(error)) return undefined;
        throw error;
      }
    });
  }

  /** Reads the first bytes of `key` with `read` (a ranged read); no bytes for an empty object, whose range every cloud answers with 416. */
  protected readStart(key: string, read: (client: Client) => Promise<Uint8Array>): Promise<Uint8Array | undefined> {
    return this.read(key, async (client) => {
      try {
        return await read(client);
      } catch (error) {
        if (this.statusOf(error) === 416) return new Uint8Array(0);
        throw error;
      }
    });
  }
}
