import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CheckpointLockedError, CheckpointStoreError } from '../../core/errors.js';

/** A lock not refreshed for this long belongs to a dead (or frozen) process on some host. */
const STALE_MS = 10_000;
const UPDATE_MS = 2_000;
/**
 * A locker writes owner.json right after creating the lock directory; a directory that has
 * had none for this long was left by a process killed in between.
 */
const ORPHAN_MS = 2_000;

interface Owner {
  pid: number;
  host: string;
  since: string;
}

function readOwner(lockDirectory: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(lockDirectory, 'owner.json'), 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as Owner) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits (at most ORPHAN_MS) for a lock directory without owner.json to get one. True if none
 * came: its creator died between creating it and writing the owner, and no one else will.
 */
async function isOrphaned(lockDirectory: string): Promise<boolean> {
  for (;;) {
    let changedAt: number;
    try {
      changedAt = (await stat(lockDirectory)).ctimeMs;
    } catch {
      return true; // Gone meanwhile: nothing to wait for, just lock again.
    }
    if (readOwner(lockDirectory)) return false;
    const wait = changedAt + ORPHAN_MS - Date.now();
    if (wait <= 0) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 100)));
  }
}

async function isStale(lockDirectory: string): Promise<boolean> {
  try {
    return (await stat(lockDirectory)).mtimeMs < Date.now() - STALE_MS;
  } catch {
    return true;
  }
}

/**
 * Moves a dead holder's lock out of the way. The lock directory is renamed first (atomic), then
 * the owner inside is checked again: if another process re-locked in between, its lock is put
 * back rather than removed.
 */
async function takeOver(lockDirectory: string, dead: Owner | undefined): Promise<void> {
  const tomb = `${lockDirectory}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(lockDirectory, tomb);
  } catch {
    return; // Someone else removed it first; just try to lock again.
  }
  const owner = readOwner(tomb);
  // An owner we did not judge dead (or any owner, where there was none) re-locked in between.
  if (owner && (!dead || owner.pid !== dead.pid || owner.since !== dead.since)) {
    await rename(tomb, lockDirectory).catch(() => {});
    return;
  }
  await rm(tomb, { recursive: true, force: true });
}

/** Locks this process holds, removed on exit even when the process ends by `process.exit()`. */
const held = new Set<FileLock>();
let exitHookInstalled = false;

function releaseAllOnExit(): void {
  for (const lock of held) lock.releaseSync();
}

/**
 * An exclusive lock on a checkpoint file, held as the directory `<file>.lock` (proper-lockfile)
 * with `owner.json` (pid, host) inside. A holder that died on this host is taken over at once;
 * one on another host once its lock has not been refreshed for 10 seconds.
 */
export class FileLock {
  readonly #release: () => Promise<void>;
  readonly #directory: string;
  readonly #owner: Owner;

  private constructor(directory: string, owner: Owner, release: () => Promise<void>) {
    this.#directory = directory;
    this.#owner = owner;
    this.#release = release;
    held.add(this);
    if (!exitHookInstalled) {
      // proper-lockfile's own exit hook cannot remove a lock directory that holds owner.json.
      process.on('exit', releaseAllOnExit);
      exitHookInstalled = true;
    }
  }

  #ownsDirectory(): boolean {
    const owner = readOwner(this.#directory);
    return owner?.pid === this.#owner.pid && owner.since === this.#owner.since;
  }

  /** Removes the lock directory synchronously, if it is still ours (for the exit hook). */
  releaseSync(): void {
    held.delete(this);
    if (this.#ownsDirectory()) rmSync(this.#directory, { recursive: true, force: true });
  }

  static async acquire(file: string, onLost: (error: Error) => void): Promise<FileLock> {
    const directory = `${file}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const release = await lockfile.lock(file, { realpath: false, stale: STALE_MS, update: UPDATE_MS, retries: 0, onCompromised: onLost });
        const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
        // Adding a file changes the directory's mtime, and proper-lockfile treats an mtime it did
        // not set as a lock taken over (compromised) at its next refresh; so put it back.
        const { atime, mtime } = statSync(directory);
        writeFileSync(join(directory, 'owner.json'), JSON.stringify(owner));
        utimesSync(directory, atime, mtime);
        return new FileLock(directory, owner, release);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ELOCKED' && code !== 'ENOTEMPTY') {
          throw new CheckpointStoreError(file, `could not lock: ${(error as Error).message}`, { cause: error });
        }
        let owner = readOwner(directory);
        if (!owner && !(await isOrphaned(directory))) owner = readOwner(directory);
        const dead = owner ? owner.host === hostname() && !isAlive(owner.pid) : true;
        if (attempt < 5 && (dead || (await isStale(directory)))) {
          await takeOver(directory, owner);
          continue;
        }
        throw new CheckpointLockedError(file, owner ?? {});
      }
    }
  }

  async release(): Promise<void> {
    // proper-lockfile removes the lock with rmdir, which needs the directory empty. If the lock
    // was taken over, the directory and its owner.json are the new holder's: leave them, and
    // the rmdir then fails on the non-empty directory instead of releasing someone else's lock.
    held.delete(this);
    if (this.#ownsDirectory()) await rm(join(this.#directory, 'owner.json'), { force: true });
    await this.#release().catch(() => {});
  }
}
