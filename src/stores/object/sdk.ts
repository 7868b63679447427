import { CheckpointError, CheckpointStoreError } from '../../core/errors.js';

/**
 * Loads a cloud SDK on first use, so that nobody needs it installed who does not use its URLs.
 * `load` is the `import()` itself (a literal specifier, which bundlers and types follow);
 * `member` is an export that tells the module from a CommonJS wrapper's `default`.
 * @throws CheckpointStoreError saying to install `name` when it is not installed
 */
export async function loadSdk<T>(load: () => Promise<unknown>, member: keyof T & string, name: string, scheme: string, location: string): Promise<T> {
  try {
    const loaded = (await load()) as T & { default?: T };
    return loaded[member] ? loaded : loaded.default!;
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new CheckpointStoreError(location, `the "${name}" package is not installed — install ${name} to use ${scheme}:// paths: npm install ${name}`, { cause: error });
  }
}

/**
 * `make()` run once and kept, except when it fails: the next call tries again (e.g. after the
 * package was installed, or the credentials were set).
 */
export function lazily<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (made) return made;
    const attempt = make();
    made = attempt;
    attempt.catch(() => {
      if (made === attempt) made = undefined;
    });
    return attempt;
  };
}

/**
 * Runs one request; what still fails after the SDK's own retries is a CheckpointStoreError naming
 * the object, with `hint` (what to do about this error, or '') after the SDK's first line.
 */
export async function request<T>(where: string, what: string, run: () => Promise<T>, hint: (error: unknown) => string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointStoreError(where, `could not ${what} it: ${(error as Error).message.split('\n')[0]}${hint(error)}`, { cause: error });
  }
}

/** An SDK's complaint about an endpoint it was configured with (`Invalid URL`, `Only absolute URLs are supported`). */
export const badUrl = (error: unknown): boolean => error instanceof TypeError && /\burls?\b/i.test(error.message);

/** Versions are ETags without their quotes (listings may give them bare, responses quoted); conditions quote them again. */
export const bareEtag = (etag: string | undefined): string => (etag ?? '').replace(/^"(.*)"$/, '$1');
export const quotedEtag = (version: string): string => `"${bareEtag(version)}"`;
