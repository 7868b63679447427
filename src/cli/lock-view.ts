import { resolve } from 'node:path';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { isOrphanedLock } from '../stores/file/file-lock.js';
import { isAlive as isOwnerAlive, isLocal, readLockHolder, readOwner } from '../stores/file/lock-owner.js';

/**
 * Who holds a checkpoint's lock (a file's lock directory, a bucket's lease), as `status` shows it.
 * `alive` is false for a holder that is gone (a crash: the next run takes over), null when it
 * cannot be told from here (another host).
 */
export interface LockView {
  pid: number | null;
  host: string | null;
  since: string | null;
  alive: boolean | null;
}

/** Who holds the lock, in the words `status` and `watch` use. */
export type LockState = 'running' | 'free' | 'abandoned' | 'shared';

/**
 * The lock of a checkpoint as `status` and `watch` show it: a file's lock directory and a bucket's
 * lease are held by one run; a PostgreSQL checkpoint has no lock, its workers share it.
 */
export function lockState(checkpoint: { format: string; lock: LockView | null }): LockState {
  if (checkpoint.format === 'PostgreSQL') return 'shared';
  if (checkpoint.lock === null) return 'free';
  // alive null: a holder on another host, which cannot be checked from here, so it may be running.
  return checkpoint.lock.alive === false ? 'abandoned' : 'running';
}

/**
 * Why a holder that left its lock is not in the way, in words that are true of its kind: a lease
 * past its expiry may belong to a process that is only stalled (frozen, paused), which is fenced
 * off; a lock file's holder that is judged gone is gone.
 */
export function whyLeft(location: string): string {
  return isBucketUrl(location) ? 'whose lease has expired (it stopped or stalled; it can no longer write)' : 'which is no longer running';
}

/**
 * Whether the lock's holder still runs, judged as the lock itself judges it: false for a holder on
 * this host that is gone (also when its pid was reused: the start time tells) and for a lock
 * directory nobody finished taking (a locker killed before it wrote its owner); null when it
 * cannot be told from here (another host, or a lock being taken right now).
 */
function isAlive(location: string): boolean | null {
  const directory = `${resolve(location)}.lock`;
  const owner = readOwner(directory);
  if (!owner) return isOrphanedLock(directory) ? false : null;
  return isLocal(owner) ? isOwnerAlive(owner) : null;
}

/** The holder of a checkpoint file's lock, or null when nobody holds it. */
export function fileLockView(location: string): LockView | null {
  const holder = readLockHolder(location);
  return holder ? { pid: holder.pid ?? null, host: holder.host ?? null, since: holder.since ?? null, alive: isAlive(location) } : null;
}
