import { randomUUID } from 'node:crypto';
import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CheckpointLockedError, CheckpointLockLostError, CheckpointStoreError } from '../../core/errors.js';
import { namesBeside } from './fs-durable.js';
import { here, isAlive, isLocal, processStart, readOwner, sameOwner, type Owner } from './lock-owner.js';

/**
 * A lock on another host that has not been refreshed for this long is taken over: its holder
 * is dead, or frozen, or cut off. A holder on this host is never judged by time, only by
 * whether its process still exists.
 */
export const STALE_MS = 10_000;
/**
 * A holder refreshes its lock at least this often — on a timer, and, when the event loop is
 * too busy for timers, in the write path itself before a write is acknowledged. A write
 * acknowledged within this long of a refresh happened well before any other host could judge
 * the lock stale.
 */
export const REFRESH_MS = 2_000;
/**
 * A locker writes owner.json right after creating the lock directory; a directory that has
 * had none for this long was left by a process killed in between.
 */
const ORPHAN_MS = 2_000;
/** proper-lockfile's own stale check and refresh are not used: the lock is judged here. */
const NEVER_MS = 2 ** 30;
/** Takeover leftovers (`<file>.lock.stale-<pid>-<ms>`) older than this are removed by the next locker. */
const TOMB_MS = 60_000;

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

/**
 * Whether `lockDirectory` is a lock nobody holds: no owner.json, and made longer than ORPHAN_MS
 * ago (a locker killed between making the directory and writing its owner leaves this). What
 * `acquire` would take over, said without waiting.
 */
export function isOrphanedLock(lockDirectory: string, now = Date.now()): boolean {
  if (readOwner(lockDirectory)) return false;
  try {
    return statSync(lockDirectory).ctimeMs + ORPHAN_MS <= now;
  } catch {
    return false;
  }
}

async function refreshedAt(lockDirectory: string): Promise<number | undefined> {
  try {
    return (await stat(lockDirectory)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Moves a holder's lock out of the way. The lock directory is renamed first (atomic), then what
 * was judged is checked again on the moved directory: if another process re-locked in between,
 * or the holder refreshed its lock after it was judged stale, the lock is put back.
 */
async function takeOver(lockDirectory: string, judged: Owner | undefined, judgedRefresh: number | undefined): Promise<boolean> {
  const tomb = `${lockDirectory}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(lockDirectory, tomb);
  } catch {
    return false; // Someone else moved it first; just try to lock again.
  }
  const owner = readOwner(tomb);
  const refreshed = await refreshedAt(tomb);
  const changed = judged ? !sameOwner(owner, judged) : owner !== undefined;
  if (changed || (judgedRefresh !== undefined && refreshed !== undefined && refreshed > judgedRefresh)) {
    await rename(tomb, lockDirectory).catch(() => {});
    return false;
  }
  await rm(tomb, { recursive: true, force: true });
  return true;
}

/**
 * Removes `<file>.lock.stale-<pid>-<ms>` directories left by lockers killed in the middle of a
 * takeover. A takeover takes milliseconds; one older than a minute was abandoned.
 */
function removeOldTombs(lockDirectory: string): void {
  const prefix = `${basename(lockDirectory)}.stale-`;
  for (const name of namesBeside(lockDirectory)) {
    const match = name.startsWith(prefix) ? /^\d+-(\d+)$/.exec(name.slice(prefix.length)) : null;
    if (match && Date.now() - Number(match[1]) > TOMB_MS) rmSync(join(dirname(lockDirectory), name), { recursive: true, force: true });
  }
}

/** Locks this process holds, removed on exit even when the process ends by `process.exit()`. */
const held = new Set<FileLock>();
let exitHookInstalled = false;

function releaseAllOnExit(): void {
  for (const lock of held) lock.releaseSync();
}

/**
 * An exclusive lock on a checkpoint file, held as the directory `<file>.lock` (created by
 * proper-lockfile) with `owner.json` (pid, host, process start, a token) inside.
 *
 * - A holder on this host is taken over only once its process is gone, however long it has
 *   been busy or frozen: a live holder is never taken over.
 * - A holder on another host (a shared file system) is taken over once its lock has not been
 *   refreshed for {@link STALE_MS}.
 * - The holder refreshes at least every {@link REFRESH_MS}, and {@link FileLock.confirm}, called
 *   by the write path, refreshes when the timer could not; a holder that finds its lock gone or
 *   someone else's acknowledges nothing more.
 */
export class FileLock {
  readonly #release: () => Promise<void>;
  readonly #directory: string;
  readonly #owner: Owner;
  readonly #onLost: (error: Error) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #file: string;
  #refreshedAt: number;
  #lost: CheckpointLockLostError | undefined;
  /** Whether this lock was taken from a holder that may still be running (on another host). */
  readonly tookOverLiveHolder: boolean;

  private constructor(file: string, owner: Owner, release: () => Promise<void>, onLost: (error: Error) => void, tookOverLiveHolder: boolean) {
    this.#file = file;
    this.#directory = `${file}.lock`;
    this.#owner = owner;
    this.#release = release;
    this.#onLost = onLost;
    this.tookOverLiveHolder = tookOverLiveHolder;
    this.#refreshedAt = Date.now();
    this.#timer = setInterval(() => {
      try {
        this.refresh();
      } catch {
        // Reported through onLost.
      }
    }, REFRESH_MS);
    this.#timer.unref();
    held.add(this);
    if (!exitHookInstalled) {
      // proper-lockfile's own exit hook cannot remove a lock directory that holds owner.json.
      process.on('exit', releaseAllOnExit);
      exitHookInstalled = true;
    }
  }

  /**
   * Throws CheckpointLockLostError unless this process provably still holds the lock: refreshed
   * within {@link REFRESH_MS}, or refreshed now. Cheap (a clock read) on the common path.
   */
  confirm(now = Date.now()): void {
    if (this.#lost) throw this.#lost;
    if (now - this.#refreshedAt > REFRESH_MS) this.refresh();
  }

  /**
   * Refreshes the lock now and checks it is still ours: the last check before a file that a
   * new holder would read or own is replaced or deleted.
   */
  refresh(): void {
    if (this.#lost) throw this.#lost;
    const now = Date.now();
    let reason: string | undefined;
    try {
      utimesSync(this.#directory, now / 1000, now / 1000);
      if (!sameOwner(readOwner(this.#directory), this.#owner)) reason = 'another process holds it now';
    } catch (error) {
      reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the lock directory was removed' : (error as Error).message;
    }
    if (reason === undefined) {
      this.#refreshedAt = now;
      return;
    }
    this.#lost = new CheckpointLockLostError(this.#file, { cause: new Error(reason) });
    clearInterval(this.#timer);
    held.delete(this);
    this.#onLost(this.#lost.cause as Error);
    throw this.#lost;
  }

  #ownsDirectory(): boolean {
    return sameOwner(readOwner(this.#directory), this.#owner);
  }

  /** Removes the lock directory synchronously, if it is still ours (for the exit hook). */
  releaseSync(): void {
    held.delete(this);
    clearInterval(this.#timer);
    if (this.#ownsDirectory()) rmSync(this.#directory, { recursive: true, force: true });
  }

  static async acquire(file: string, onLost: (error: Error) => void): Promise<FileLock> {
    const directory = `${file}.lock`;
    removeOldTombs(directory);
    let tookOverLiveHolder = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const release = await lockfile.lock(file, { realpath: false, stale: NEVER_MS, update: NEVER_MS, retries: 0, onCompromised: () => {} });
        const started = processStart(process.pid);
        const owner: Owner = { pid: process.pid, ...here(), since: new Date().toISOString(), token: randomUUID(), ...(started && started !== 'zombie' ? { started } : {}) };
        writeFileSync(join(directory, 'owner.json'), JSON.stringify(owner));
        return new FileLock(file, owner, release, onLost, tookOverLiveHolder);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ELOCKED' && code !== 'ENOTEMPTY') {
          throw new CheckpointStoreError(file, `could not lock: ${(error as Error).message}`, { cause: error });
        }
        let owner = readOwner(directory);
        if (!owner && !(await isOrphaned(directory))) owner = readOwner(directory);
        const refreshed = await refreshedAt(directory);
        const local = owner !== undefined && isLocal(owner);
        const dead = owner ? local && !isAlive(owner) : true;
        const stale = owner !== undefined && !local && refreshed !== undefined && refreshed < Date.now() - STALE_MS;
        if (attempt < 5 && (dead || stale)) {
          if (await takeOver(directory, owner, stale ? refreshed : undefined)) tookOverLiveHolder ||= stale;
          continue;
        }
        throw new CheckpointLockedError(file, owner ?? {});
      }
    }
  }

  async release(): Promise<void> {
    held.delete(this);
    clearInterval(this.#timer);
    // proper-lockfile's release forgets the lock, then its rmdir fails on owner.json; the
    // directory is removed here only while it is still ours, never a new holder's.
    const ours = this.#ownsDirectory();
    await this.#release().catch(() => {});
    if (ours) await rm(this.#directory, { recursive: true, force: true });
  }
}
