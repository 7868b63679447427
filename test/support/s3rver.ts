import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver's fixed development credentials (public, from its documentation). */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3rverServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A client of this server (path-style, its credentials), retrying `maxAttempts` times; through `endpoint` when given (a proxy). */
  client(maxAttempts?: number, endpoint?: string): S3Client;
  /** A new, empty bucket; its name. */
  createBucket(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * s3rver in a process of its own: its listing continuation tokens use DES, which Node's OpenSSL 3
 * only has with the legacy provider (without it, a listing of more than a page fails with a 500).
 */
const SERVER = `const S3rver = require('s3rver');
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1] }).run().then((address) => console.log('listening ' + address.port));`;

/**
 * Starts s3rver (an S3 server for tests, files in a temporary directory) on a free loopback port.
 * It accepts `If-None-Match` and `If-Match` on a PUT and overwrites anyway: the data path only.
 * Throws, never skips, when it cannot start.
 */
export async function startS3rver(): Promise<S3rverServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SERVER, directory], { stdio: ['ignore', 'pipe', 'pipe'] });
  const endpoint = `http://127.0.0.1:${await listeningPort(child)}`;
  const client = (maxAttempts = 3, through = endpoint): S3Client => new S3Client({ endpoint: through, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, maxAttempts });
  const admin = client();
  return {
    endpoint,
    client,
    async createBucket() {
      const name = `b${randomUUID().replaceAll('-', '')}`.slice(0, 40);
      await admin.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      admin.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code, signal) => reject(new Error(`s3rver exited (${code ?? signal}) before it listened:\n${output}`)));
    child.once('error', reject);
  });
}
