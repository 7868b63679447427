/**
 * A power-loss model laid over the real file system, for the files of one directory.
 *
 * Import this module before the library: it wraps the `node:fs` functions the file store uses to
 * make data durable (fsync, fdatasync, a directory's FileHandle.sync) and to move names (rename,
 * unlink), and refreshes the ES module bindings, so the store's own code runs unchanged on the
 * real disk. Alongside, it keeps what a power cut would leave behind, under the POSIX contract:
 * - a file's content survives only as of its last fsync/fdatasync (unsynced writes are dropped);
 * - a name (a created, renamed or deleted file) survives only once its directory was fsynced.
 * A sync covers what was done before it was called: the content or the directory listing is
 * read when the sync is called (on the event loop, whether the sync then runs there or on the
 * thread pool) and becomes durable when it completes; a sync that completes after a later one
 * does not take the durable state back to its older view.
 * `capture()` takes that durable state at any moment; `materialize()` writes it into a fresh
 * directory, where the checkpoint can be opened as after the cut. Linux only (it reads a synced
 * file's content through /proc/self/fd, which still works after the file was renamed, and tells
 * files apart by inode and birth time, since a deleted file's inode number is reused).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import type * as FsModule from 'node:fs';
import type * as FsPromises from 'node:fs/promises';

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof FsModule;
const fsPromises = require('node:fs/promises') as typeof FsPromises;
const original = {
  fsync: fs.fsync,
  fsyncSync: fs.fsyncSync,
  fdatasync: fs.fdatasync,
  fdatasyncSync: fs.fdatasyncSync,
  write: fs.write,
  writeSync: fs.writeSync,
  open: fsPromises.open,
  rename: fs.rename,
  renameSync: fs.renameSync,
  promisesRename: fsPromises.rename,
  promisesUnlink: fsPromises.unlink,
  unlinkSync: fs.unlinkSync,
};

export type DiskEvent =
  | { kind: 'fsync'; file: string; ino: string }
  | { kind: 'dir-sync' }
  | { kind: 'rename'; from: string; to: string; ino: string }
  | { kind: 'unlink'; file: string };

/** The files a power cut would leave: name → content. */
export type DurableState = Map<string, Buffer>;

class PowerLossModel {
  root: string | undefined;
  #names = new Map<string, string>();
  #contents = new Map<string, Buffer>();
  /** Syncs are numbered when called, so that an older one completing late changes nothing. */
  #calls = 0;
  #namesAsOf = 0;
  #contentsAsOf = new Map<string, number>();
  readonly events: DiskEvent[] = [];
  /** Called after every durability-relevant operation, with what would survive a cut right then. */
  onChange: (() => void) | undefined;
  /** Writes under the root fail with ENOSPC once this many more bytes were written. */
  spaceLeft = Infinity;
  /** While set, every fsync/fdatasync of a file under the root fails with this code (as on a thin-provisioned or network disk that runs out of space). */
  syncFailure: string | undefined;

  /** Starts watching `root`: everything in it now counts as durable. */
  watch(root: string): void {
    this.root = root;
    this.events.length = 0;
    this.spaceLeft = Infinity;
    this.syncFailure = undefined;
    this.#contents.clear();
    this.#names = this.#listing();
    for (const [name, ino] of this.#names) this.#contents.set(ino, fs.readFileSync(join(root, name)));
  }

  stop(): void {
    this.root = undefined;
    this.onChange = undefined;
  }

  capture(): DurableState {
    const state: DurableState = new Map();
    for (const [name, ino] of this.#names) state.set(name, this.#contents.get(ino) ?? Buffer.alloc(0));
    return state;
  }

  /** Called as a file's fsync/fdatasync is called: what it will make durable. Call the returned function once it completes. */
  fileSyncing(fd: number): () => void {
    if (!this.root) return () => {};
    const file = fs.readlinkSync(`/proc/self/fd/${fd}`);
    if (!file.startsWith(`${this.root}/`)) return () => {};
    const ino = identity(fs.fstatSync(fd, { bigint: true }));
    const content = fs.readFileSync(`/proc/self/fd/${fd}`);
    const call = ++this.#calls;
    return () => {
      if (call > (this.#contentsAsOf.get(ino) ?? 0)) {
        this.#contents.set(ino, content);
        this.#contentsAsOf.set(ino, call);
      }
      this.#record({ kind: 'fsync', file, ino });
    };
  }

  /** Called as a directory's fsync is called; call the returned function once it completes. */
  directorySyncing(directory: string): () => void {
    if (directory !== this.root) return () => {};
    const names = this.#listing();
    const call = ++this.#calls;
    return () => {
      if (call > this.#namesAsOf) {
        this.#names = names;
        this.#namesAsOf = call;
      }
      this.#record({ kind: 'dir-sync' });
    };
  }

  renamed(from: string, to: string): void {
    if (this.root && to.startsWith(`${this.root}/`)) this.#record({ kind: 'rename', from, to, ino: identity(fs.statSync(to, { bigint: true })) });
  }

  unlinked(file: string): void {
    if (this.root && file.startsWith(`${this.root}/`)) this.#record({ kind: 'unlink', file });
  }

  /** The error a sync of `fd` fails with, if syncs fail now. */
  syncError(fd: number): NodeJS.ErrnoException | undefined {
    if (!this.syncFailure || !this.root || !fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${this.root}/`)) return undefined;
    return Object.assign(new Error(`${this.syncFailure}: sync failed`), { code: this.syncFailure, syscall: 'fsync' });
  }

  spend(fd: number, bytes: number): void {
    if (this.spaceLeft === Infinity) return;
    if (!fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${this.root}/`)) return;
    if (bytes > this.spaceLeft) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    this.spaceLeft -= bytes;
  }

  #record(event: DiskEvent): void {
    this.events.push(event);
    this.onChange?.();
  }

  /**
   * Regular files only: the lock is a directory, and a cut does not matter to it. A rename or
   * unlink running on the thread pool can take a name away between the listing and its stat:
   * then the listing is taken again, so that it is the directory as it was at one moment.
   */
  #listing(): Map<string, string> {
    for (;;) {
      const names = new Map<string, string>();
      try {
        for (const entry of fs.readdirSync(this.root!, { withFileTypes: true })) {
          if (entry.isFile()) names.set(entry.name, identity(fs.statSync(join(this.root!, entry.name), { bigint: true })));
        }
        return names;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
}

/** An inode number is reused once its file is deleted; with its birth time it names one file. */
function identity(stats: FsModule.BigIntStats): string {
  return `${stats.ino}:${stats.birthtimeNs}`;
}

export const disk = new PowerLossModel();

/** Writes a captured state into `directory` (which should be empty). */
export function materialize(state: DurableState, directory: string): void {
  for (const [name, content] of state) fs.writeFileSync(join(directory, name), content);
}

type Callback = (error: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

function afterCallback(callback: Callback, then: () => void): Callback {
  return (error, ...rest) => {
    if (!error) then();
    callback(error, ...rest);
  };
}

function byteLength(data: unknown): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0;
}

const installed = Symbol.for('checkpointer.power-loss-fs');
const registry = globalThis as { [installed]?: boolean };
if (!registry[installed]) {
  registry[installed] = true;
  const patch = fs as unknown as Record<string, unknown>;
  // The same model for a sync on the thread pool (callback) and on the event loop (…Sync).
  const syncing = (fd: number): (() => void) => (fs.fstatSync(fd).isDirectory() ? disk.directorySyncing(fs.readlinkSync(`/proc/self/fd/${fd}`)) : disk.fileSyncing(fd));
  const failing = (fd: number, callback: Callback): boolean => {
    const error = disk.syncError(fd);
    if (error) process.nextTick(() => callback(error));
    return error !== undefined;
  };
  patch.fsync = (fd: number, callback: Callback) => failing(fd, callback) || original.fsync(fd, afterCallback(callback, syncing(fd)));
  patch.fdatasync = (fd: number, callback: Callback) => failing(fd, callback) || original.fdatasync(fd, afterCallback(callback, syncing(fd)));
  patch.fsyncSync = (fd: number) => {
    const error = disk.syncError(fd);
    if (error) throw error;
    const synced = syncing(fd);
    original.fsyncSync(fd);
    synced();
  };
  patch.fdatasyncSync = (fd: number) => {
    const error = disk.syncError(fd);
    if (error) throw error;
    const synced = syncing(fd);
    original.fdatasyncSync(fd);
    synced();
  };
  const write = (fd: number, data: unknown, ...rest: unknown[]) => {
    const callback = rest.at(-1) as Callback;
    try {
      disk.spend(fd, byteLength(data));
    } catch (error) {
      process.nextTick(() => callback(error as NodeJS.ErrnoException));
      return;
    }
    (original.write as (...args: unknown[]) => void)(fd, data, ...rest);
  };
  // promisify(fs.write) resolves { bytesWritten, buffer } thanks to these symbols: keep them.
  for (const symbol of Object.getOwnPropertySymbols(original.write)) (write as unknown as Record<symbol, unknown>)[symbol] = (original.write as unknown as Record<symbol, unknown>)[symbol];
  patch.write = write;
  patch.writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    disk.spend(fd, byteLength(data));
    return (original.writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
  };
  patch.rename = (from: string, to: string, callback: Callback) => original.rename(from, to, afterCallback(callback, () => disk.renamed(from, to)));
  patch.renameSync = (from: string, to: string) => {
    original.renameSync(from, to);
    disk.renamed(from, to);
  };
  const promises = fsPromises as unknown as Record<string, unknown>;
  promises.rename = async (from: string, to: string) => {
    await original.promisesRename(from, to);
    disk.renamed(from, to);
  };
  patch.unlinkSync = (file: string) => {
    original.unlinkSync(file);
    disk.unlinked(file);
  };
  promises.unlink = async (file: string) => {
    await original.promisesUnlink(file);
    disk.unlinked(file);
  };
  promises.open = async (...args: Parameters<typeof FsPromises.open>) => {
    const handle = await original.open(...args);
    const path = String(args[0]);
    if (path === disk.root) {
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        const synced = disk.directorySyncing(path);
        await sync();
        synced();
      };
    }
    return handle;
  };
  syncBuiltinESMExports();
}
