import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConditionsProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Answers the next `count` requests with `status` (503 SlowDown, or a dropped connection with 0) before they reach the server. */
  failNext(count: number, status: 503 | 0): void;
  /** Requests that reached the server, as `METHOD path`. */
  readonly forwarded: string[];
  stop(): Promise<void>;
}

const PRECONDITION_FAILED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
const INVALID_RANGE = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>';
const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

/**
 * A proxy in front of s3rver that enforces `If-None-Match: *` and `If-Match` on PUT and DELETE as
 * AWS S3 documents them (412 PreconditionFailed), one request per key at a time, and answers a
 * ranged GET of an empty object with 416 InvalidRange as S3 does, so that the
 * adapter's conditional paths run against real S3 responses; and that can fail requests as a
 * throttled or dropped S3 would. It checks with an unsigned HEAD, which s3rver allows.
 */
export async function startConditionsProxy(upstream: string): Promise<ConditionsProxy> {
  const target = new URL(upstream);
  const queues = new Map<string, Promise<void>>();
  const failures: (503 | 0)[] = [];
  const forwarded: string[] = [];

  /** The object's ETag and size, from an unsigned HEAD; undefined when there is none. */
  const current = (path: string): Promise<{ etag: string; size: number } | undefined> =>
    new Promise((resolve, reject) => {
      const head = request({ host: target.hostname, port: target.port, method: 'HEAD', path }, (response) => {
        response.resume();
        resolve(response.statusCode === 200 ? { etag: String(response.headers.etag), size: Number(response.headers['content-length']) } : undefined);
      });
      head.on('error', reject).end();
    });

  const forward = (incoming: IncomingMessage, body: Buffer, outgoing: ServerResponse): Promise<void> =>
    new Promise((resolve, reject) => {
      forwarded.push(`${incoming.method} ${incoming.url}`);
      const upstreamRequest = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
        outgoing.writeHead(response.statusCode!, response.headers);
        response.pipe(outgoing).on('finish', resolve);
      });
      upstreamRequest.on('error', reject).end(body);
    });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const failure = failures.shift();
    if (failure === 0) return void incoming.socket.destroy();
    if (failure === 503) return void outgoing.writeHead(503, { 'content-type': 'application/xml' }).end(SLOW_DOWN);
    const path = incoming.url!.split('?')[0]!;
    // A range of an empty object: S3 answers 416 InvalidRange, where s3rver promises one byte and never sends it.
    if (incoming.method === 'GET' && incoming.headers.range && (await current(path))?.size === 0) {
      return void outgoing.writeHead(416, { 'content-type': 'application/xml' }).end(INVALID_RANGE);
    }
    const conditional = (incoming.method === 'PUT' || incoming.method === 'DELETE') && (incoming.headers['if-none-match'] || incoming.headers['if-match']);
    if (!conditional) return forward(incoming, Buffer.concat(chunks), outgoing);
    // One conditional write per key at a time: the check and the write are one step, as in S3.
    const previous = queues.get(path) ?? Promise.resolve();
    const turn = previous.then(async () => {
      const etag = (await current(path))?.etag;
      const ifNoneMatch = incoming.headers['if-none-match'];
      const ifMatch = incoming.headers['if-match'];
      const holds = ifNoneMatch === '*' ? etag === undefined : ifMatch !== undefined ? etag === ifMatch : true;
      if (!holds) return void outgoing.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION_FAILED);
      await forward(incoming, Buffer.concat(chunks), outgoing);
    });
    queues.set(path, turn.catch(() => {}));
    await turn;
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => outgoing.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNext(count, status) {
      for (let n = 0; n < count; n++) failures.push(status);
    },
    forwarded,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
