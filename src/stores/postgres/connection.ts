import type { Pool, PoolClient } from 'pg';
import { CheckpointError, CheckpointStoreError } from '../../core/errors.js';
import { isTransient } from './transient.js';

/** How failed queries are retried when the error is transient (a dropped connection, a failover). */
export interface RetryOptions {
  /**
   * How many times a failed query or transaction is retried.
   * @default 8
   */
  retries?: number;
  /**
   * The delay before the first retry; it doubles with each retry.
   * @default 100
   */
  initialMs?: number;
  /**
   * The longest delay between two retries.
   * @default 5000
   */
  maxMs?: number;
}

export interface ConnectionOptions {
  connectionString?: string | undefined;
  pool?: Pool | undefined;
  retry?: RetryOptions | undefined;
  /** Names the checkpoint in messages; never contains the password. */
  location: string;
}

type PgModule = typeof import('pg');

/** Errors thrown while connecting rather than by a statement, for a clearer message. */
const connectFailures = new WeakSet<object>();

/** Loads `pg` on first use, so that users of the file stores never need it installed. */
async function loadPg(location: string): Promise<PgModule> {
  try {
    const loaded = (await import('pg')) as PgModule & { default?: PgModule };
    return loaded.default ?? loaded;
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new CheckpointStoreError(location, 'the "pg" package is not installed — install pg to use PostgresStore: npm install pg', { cause: error });
  }
}

/**
 * The store's way to the database: a pool (given, or created from the connection string on first
 * use), clients that are destroyed rather than reused after an error, and retries with
 * exponential backoff for transient errors. Every statement the store runs is idempotent, so a
 * retry after a commit whose reply was lost does no harm.
 */
export class PostgresConnection {
  readonly location: string;
  readonly #options: ConnectionOptions;
  readonly #retry: Required<RetryOptions>;
  readonly #secrets: string[];
  #pool: Promise<Pool> | undefined;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.location = options.location;
    this.#retry = { retries: 8, initialMs: 100, maxMs: 5000, ...options.retry };
    this.#secrets = secretsOf(options.connectionString);
  }

  /** Runs `work` on one client, retrying the whole of it after a transient error. */
  withClient<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#retrying(what, () => this.#once(work));
  }

  async #retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof CheckpointError) throw error;
        if (!isTransient(error) || retry > this.#retry.retries) throw this.#wrap(what, error, retry - 1);
        const cap = Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** (retry - 1));
        await new Promise((resolve) => setTimeout(resolve, cap / 2 + (Math.random() * cap) / 2));
      }
    }
  }

  /** Runs `work` in a transaction (retried as a whole). */
  transaction<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(what, async (client) => {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    });
  }

  /** One statement, retried; resolves with its rows. */
  async query<Row>(what: string, text: string, values?: unknown[]): Promise<Row[]> {
    return this.withClient(what, async (client) => (await client.query(text, values)).rows as Row[]);
  }

  /** A client held until `release` is called, for session-level advisory locks. */
  async hold(what: string): Promise<{ client: PoolClient; release(): void }> {
    return this.#retrying(what, async () => {
      const client = await this.#connect();
      // A held connection that drops must not crash the process with an unhandled 'error'.
      const ignore = (): void => {};
      client.on('error', ignore);
      let released = false;
      return {
        client,
        release: () => {
          if (released) return;
          released = true;
          client.off('error', ignore);
          client.release(true);
        },
      };
    });
  }

  /** Ends the pool if this connection created it; a pool passed in belongs to the caller. */
  async end(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (!pool || this.#options.pool) return;
    await (await pool.catch(() => undefined))?.end();
  }

  async #once<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    // pg emits 'error' on a checked-out client whose connection drops; unhandled, it would crash.
    const ignore = (): void => {};
    client.on('error', ignore);
    let failed = true;
    try {
      const result = await work(client);
      failed = false;
      return result;
    } finally {
      client.off('error', ignore);
      // After an error the client may sit in an aborted transaction or on a dead socket: destroy it.
      client.release(failed);
    }
  }

  async #connect(): Promise<PoolClient> {
    try {
      return await (await this.#getPool()).connect();
    } catch (error) {
      if (typeof error === 'object' && error !== null) connectFailures.add(error);
      throw error;
    }
  }

  #getPool(): Promise<Pool> {
    this.#pool ??= this.#createPool();
    return this.#pool;
  }

  async #createPool(): Promise<Pool> {
    if (this.#options.pool) return this.#options.pool;
    const pg = await loadPg(this.location);
    try {
      const pool = new pg.Pool({ connectionString: this.#options.connectionString, application_name: 'checkpointer', max: 4, allowExitOnIdle: true });
      // An idle client whose connection dropped: the pool discards it and the next checkout reconnects.
      pool.on('error', () => {});
      return pool;
    } catch (error) {
      this.#pool = undefined;
      throw error;
    }
  }

  /** A store error whose message and cause never carry the password. */
  #wrap(what: string, error: unknown, retries: number): CheckpointStoreError {
    const raw = error instanceof Error ? error.message : String(error);
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
    const message = this.#redact(raw) + (code ? ` (${code})` : '') + (retries > 0 ? `, still failing after ${retries} retries` : '');
    // Errors from the server never echo the connection string; client-side ones (a URL parse
    // error carries the whole input) are replaced by a copy without it.
    const fromServer = error instanceof Error && 'severity' in error;
    const cause = fromServer ? error : Object.assign(new Error(message), code ? { code } : {});
    const hint = /password|authentication|connect|ENOTFOUND|ECONNREFUSED|Invalid URL|database .* does not exist/i.test(raw)
      ? ' — check the connection string (host, port, user, password, database) or the pool you passed'
      : '';
    const failed = typeof error === 'object' && error !== null && connectFailures.has(error) ? `could not connect (while ${what})` : `${what} failed`;
    return new CheckpointStoreError(this.location, `${failed}: ${message}${hint}`, { cause });
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}

/** The password in every spelling a message might contain it. */
function secretsOf(connectionString: string | undefined): string[] {
  if (!connectionString) return [];
  const secrets = new Set<string>();
  const match = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(connectionString);
  if (match?.[1]) {
    secrets.add(match[1]);
    try {
      secrets.add(decodeURIComponent(match[1]));
    } catch {
      // Not percent-encoded: the raw spelling is enough.
    }
  }
  const keyword = /password\s*=\s*'?([^'\s]+)/i.exec(connectionString);
  if (keyword?.[1]) secrets.add(keyword[1]);
  return [...secrets].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

/** `postgres://user@host:port/db`: the connection string without its password, for messages. */
export function describeConnection(connectionString: string | undefined): string {
  if (connectionString === undefined) return 'postgres (pool)';
  try {
    const url = new URL(connectionString);
    url.password = '';
    url.search = '';
    return url.toString().replace(/:@/, '@');
  } catch {
    return 'postgres (unparsable connection string)';
  }
}
