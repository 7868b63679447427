import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What happens to a request that is failed (`pass`: nothing, it goes through):
 * - `503`: answered "503 Server Busy" without reaching the server;
 * - `drop`: its connection is cut without reaching the server;
 * - `drop-after`: it reaches the server (and is carried out), then its connection is cut before
 *   the answer comes back — the client cannot know that its write landed.
 */
export type Fault = 503 | 'drop' | 'drop-after' | 'pass';

export interface FaultyProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Fails the next requests whose method is one of `methods` (all when not given), one fault each, in order. */
  failNext(faults: readonly Fault[], methods?: readonly string[]): void;
  /** The faults still waiting for a request. */
  readonly pending: number;
  /** Forgets the faults still waiting. */
  clear(): void;
  /** How many requests were failed, by fault. */
  readonly failed: Record<string, number>;
  stop(): Promise<void>;
}

const SERVER_BUSY = '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>';

/** A plain HTTP proxy in front of a storage server (Azurite) that fails chosen requests as a flaky network or a throttled service would. */
export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const target = new URL(upstream);
  const faults: { fault: Fault; methods: readonly string[] | undefined }[] = [];
  const failed: Record<string, number> = {};

  const forward = (incoming: IncomingMessage, body: Buffer, outgoing: ServerResponse, dropAnswer: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const upstreamRequest = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
        if (dropAnswer) {
          response.resume();
          response.on('end', () => {
            incoming.socket.destroy();
            resolve();
          });
          return;
        }
        outgoing.writeHead(response.statusCode!, response.headers);
        response.pipe(outgoing).on('finish', resolve);
      });
      upstreamRequest.on('error', reject).end(body);
    });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const index = faults.findIndex((entry) => entry.methods === undefined || entry.methods.includes(incoming.method!));
    const fault = index === -1 ? undefined : faults.splice(index, 1)[0]!.fault;
    if (fault !== undefined && fault !== 'pass') failed[String(fault)] = (failed[String(fault)] ?? 0) + 1;
    if (fault === 'drop') return void incoming.socket.destroy();
    if (fault === 503) return void outgoing.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy' }).end(SERVER_BUSY);
    await forward(incoming, Buffer.concat(chunks), outgoing, fault === 'drop-after');
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => outgoing.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNext(list, methods) {
      for (const fault of list) faults.push({ fault, methods });
    },
    get pending() {
      return faults.length;
    },
    clear() {
      faults.length = 0;
    },
    failed,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
