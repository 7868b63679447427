import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredGcsObject {
  body: Buffer;
  generation: number;
  /** When it was last written, by this process's monotonic clock: for the one-write-per-second limit. */
  writtenAt: number;
}

export interface FakeGcsServer {
  /** `http://127.0.0.1:<port>`: for STORAGE_EMULATOR_HOST or `apiEndpoint`. */
  endpoint: string;
  createBucket(name: string): void;
  /** Answers the next `count` requests with `status` (429 or 503) before they are served. */
  failNext(count: number, status: 429 | 503): void;
  /** Refuse with 429 a second write to one object name within `ms` (GCS: about one per second); 0: no limit. */
  sameObjectWriteInterval(ms: number): void;
  /** Requests served or failed, as `METHOD path status`. */
  readonly requests: string[];
  stop(): Promise<void>;
}

const PAGE_SIZE = 1000;

/**
 * A local stand-in for the Google Cloud Storage JSON API, implementing what the GCS adapter
 * relies on as Google documents it: objects with generations; uploads (multipart) and deletes
 * with `ifGenerationMatch` (0: only if absent), answered with 412 when it does not hold; metadata
 * and `alt=media` reads (at a `generation` when given, of a `Range: bytes=a-b` when asked: 206, or 416 past the end); listings by prefix in name order, paged;
 * 429 for a second write to one name within the same-object interval; injectable 429/503s.
 */
export async function startFakeGcsServer(): Promise<FakeGcsServer> {
  const buckets = new Map<string, Map<string, StoredGcsObject>>();
  const failures: (429 | 503)[] = [];
  const requests: string[] = [];
  let nextGeneration = Date.now() * 1000;
  let writeInterval = 0;

  const json = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const error = (response: ServerResponse, status: number, message: string): void => json(response, status, { error: { code: status, message, errors: [{ message, reason: String(status) }] } });
  const resource = (bucket: string, name: string, object: StoredGcsObject) => ({
    kind: 'storage#object',
    bucket,
    name,
    size: String(object.body.byteLength),
    generation: String(object.generation),
    metageneration: '1',
    md5Hash: createHash('md5').update(object.body).digest('base64'),
  });

  function write(response: ServerResponse, objects: Map<string, StoredGcsObject>, bucket: string, name: string, body: Buffer, ifGenerationMatch: string | null): void {
    const existing = objects.get(name);
    if (ifGenerationMatch !== null && String(existing?.generation ?? 0) !== ifGenerationMatch) return error(response, 412, 'At least one of the pre-conditions you specified did not hold.');
    const now = performance.now();
    if (existing && writeInterval > 0 && now - existing.writtenAt < writeInterval) return error(response, 429, 'The object exceeded the rate limit for object mutation operations (create, update, and delete).');
    const object = { body, generation: ++nextGeneration, writtenAt: now };
    objects.set(name, object);
    json(response, 200, resource(bucket, name, object));
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url!, 'http://localhost');
    const failure = failures.shift();
    if (failure) return error(response, failure, failure === 429 ? 'Too many requests' : 'Service unavailable');
    // With STORAGE_EMULATOR_HOST, the Node SDK sends the JSON API's calls without /storage/v1
    // (it takes the variable as the base URL); emulators accept both, as this one does.
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    const object = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    const list = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o$/.exec(url.pathname);
    const bucket = decodeURIComponent((upload ?? object ?? list)?.[1] ?? '');
    const objects = buckets.get(bucket);
    if (!upload && !object && !list) return error(response, 501, `not implemented: ${request.method} ${url.pathname}`);
    if (!objects) return error(response, 404, 'The specified bucket does not exist.');

    if (upload && request.method === 'POST') {
      if (url.searchParams.get('uploadType') !== 'multipart') return error(response, 501, 'only multipart uploads are implemented');
      const { metadata, media } = parseMultipart(request.headers['content-type'] ?? '', Buffer.concat(chunks));
      return write(response, objects, bucket, url.searchParams.get('name') ?? (metadata.name as string), media, url.searchParams.get('ifGenerationMatch'));
    }
    if (list && request.method === 'GET') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const names = [...objects.keys()].filter((name) => name.startsWith(prefix)).sort();
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const size = Math.min(Number(url.searchParams.get('maxResults') ?? PAGE_SIZE), PAGE_SIZE);
      const page = names.slice(start, start + size);
      return json(response, 200, { kind: 'storage#objects', items: page.map((name) => resource(bucket, name, objects.get(name)!)), ...(start + size < names.length ? { nextPageToken: String(start + size) } : {}) });
    }
    const name = decodeURIComponent(object![2]!);
    const stored = objects.get(name);
    if (request.method === 'DELETE') {
      if (!stored) return error(response, 404, 'No such object.');
      const ifGenerationMatch = url.searchParams.get('ifGenerationMatch');
      if (ifGenerationMatch !== null && String(stored.generation) !== ifGenerationMatch) return error(response, 412, 'At least one of the pre-conditions you specified did not hold.');
      objects.delete(name);
      return void response.writeHead(204).end();
    }
    if (request.method === 'GET') {
      const generation = url.searchParams.get('generation');
      if (!stored || (generation !== null && String(stored.generation) !== generation)) return error(response, 404, `No such object: ${bucket}/${name}`);
      if (url.searchParams.get('alt') !== 'media') return json(response, 200, resource(bucket, name, stored));
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        if (start >= stored.body.byteLength) return error(response, 416, 'The requested range cannot be satisfied.');
        const part = stored.body.subarray(start, range[2] === '' ? undefined : Number(range[2]) + 1);
        response.writeHead(206, { 'content-type': 'application/octet-stream', 'content-length': part.byteLength, 'content-range': `bytes ${start}-${start + part.byteLength - 1}/${stored.body.byteLength}`, 'x-goog-generation': String(stored.generation) });
        return void response.end(part);
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.body.byteLength, 'x-goog-generation': String(stored.generation), 'x-goog-hash': `md5=${createHash('md5').update(stored.body).digest('base64')}` });
      return void response.end(stored.body);
    }
    error(response, 501, `not implemented: ${request.method} ${url.pathname}`);
  }

  const server = createServer((request, response) => {
    handle(request, response)
      .catch((caught: unknown) => error(response, 500, String(caught)))
      .finally(() => requests.push(`${request.method} ${request.url} ${response.statusCode}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    createBucket: (name) => void buckets.set(name, new Map()),
    failNext(count, status) {
      for (let n = 0; n < count; n++) failures.push(status);
    },
    sameObjectWriteInterval: (ms) => void (writeInterval = ms),
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A `multipart/related` upload: its JSON metadata part and its media part. */
function parseMultipart(contentType: string, body: Buffer): { metadata: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no multipart boundary in ${contentType}`);
  const parts: Buffer[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(at + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    // A part is its headers, a blank line, and its content up to the CRLF before the next delimiter.
    parts.push(part.subarray(headerEnd + 4, part.length - 2));
    at = next;
  }
  return { metadata: JSON.parse(parts[0]!.toString('utf8')) as Record<string, unknown>, media: parts[1]! };
}
