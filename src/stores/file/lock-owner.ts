import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { CheckpointLockLostError, CheckpointStoreError } from '../../core/errors.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Who holds a checkpoint's lock: the `owner.json` inside `<file>.lock`, and whether that owner
 * is a process on this host that still runs.
 */
export interface Owner {
  pid: number;
  host: string;
  since: string;
  /** Unique to this lock: tells this holder's lock from a later one of the same process. */
  token?: string;
  /** The process's start time (Linux), so that a reused pid is not taken for the holder. */
  started?: string;
  /** The boot (Linux): another machine or VM with the same host name is another host. */
  boot?: string;
  /** The PID namespace (Linux): a container with the host's name but its own pids is another host. */
  pidNamespace?: string;
  /** The time namespace (Linux): process start times are not comparable across them. */
  timeNamespace?: string;
}

function readText(file: string, read: (file: string) => string): string | undefined {
  try {
    return read(file).trim();
  } catch {
    return undefined;
  }
}

/** What makes a process's pid (and start time) meaningful to another process: the same host name, boot, PID and time namespace. */
export const here = (() => {
  let cached: Pick<Owner, 'host' | 'boot' | 'pidNamespace' | 'timeNamespace'> | undefined;
  return () => (cached ??= {
    host: hostname(),
    ...optional('boot', readText('/proc/sys/kernel/random/boot_id', (file) => readFileSync(file, 'utf8'))),
    ...optional('pidNamespace', readText('/proc/self/ns/pid', readlinkSync)),
    ...optional('timeNamespace', readText('/proc/self/ns/time', readlinkSync)),
  });
})();

const optional = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));

/**
 * Whether `owner`'s pid can be checked from here. Fields an older owner file lacks are not
 * held against it; the host name always counts.
 */
export function isLocal(owner: Owner): boolean {
  const self = here();
  const same = (key: 'boot' | 'pidNamespace' | 'timeNamespace'): boolean => owner[key] === undefined || owner[key] === self[key];
  return owner.host === self.host && same('boot') && same('pidNamespace') && same('timeNamespace');
}

export function readOwner(lockDirectory: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(lockDirectory, 'owner.json'), 'utf8')) as Partial<Owner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as Owner) : undefined;
  } catch {
    return undefined;
  }
}

export const sameOwner = (a: Owner | undefined, b: Owner | undefined): boolean =>
  a !== undefined && b !== undefined && a.pid === b.pid && a.host === b.host && a.since === b.since && a.token === b.token;

/** Field 22 of `/proc/<pid>/stat` (start time since boot), or `undefined` where there is no /proc; `'zombie'` for a dead, unreaped process. */
export function processStart(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' ? 'zombie' : fields[19];
}

/** Whether the process that wrote `owner` (on this host) still runs: the same pid and, where it can be told, the same start time. */
export function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = processStart(owner.pid);
  if (started === 'zombie') return false;
  return owner.started === undefined || started === undefined || started === owner.started;
}

/**
 * Who holds the lock of `file` right now, as recorded in `<file>.lock/owner.json`: `undefined` if
 * nobody does, `{}` if the lock is held but its holder is not known (yet).
 */
export function readLockHolder(file: string): { pid?: number; host?: string; since?: string } | undefined {
  const directory = `${resolve(file)}.lock`;
  const owner = readOwner(directory);
  if (owner) return { pid: owner.pid, host: owner.host, ...(owner.since ? { since: owner.since } : {}) };
  return existsSync(directory) ? {} : undefined;
}


/**
 * Whether this process may write a checkpoint now: its lock was not lost, no write failed, and —
 * opened without the lock — no other process holds it (its records would land in the holder's
 * journal with sequence numbers of their own and fork the checkpoint). Checked before every write.
 */
export class WriteFence {
  readonly #path: string;
  readonly #location: string;
  readonly #locked: boolean;
  #lockLost: Error | undefined;
  /** Set when opened without the lock while another process holds it: every write is refused with it. */
  #readOnly: CheckpointStoreError | undefined;

  constructor(path: string, location: string, locked: boolean) {
    this.#path = path;
    this.#location = location;
    this.#locked = locked;
  }

  /** Why the lock was lost, once it was. */
  get lockLost(): Error | undefined {
    return this.#lockLost;
  }

  lose(error: Error): void {
    this.#lockLost = error;
  }

  /** Without the lock: refuses every write from now on, saying `why`. */
  refuseWrites(why: string): void {
    this.#readOnly ??= new CheckpointStoreError(this.#location, `opened with { lock: false }: it can be read, and every write is refused: ${why}`);
  }

  /** Without the lock: from the moment a holder is seen, only read. */
  lookForHolder(): void {
    if (this.#locked || this.#readOnly) return;
    const holder = readLockHolder(this.#path);
    // A lock whose holder is not written yet is refused once it is: this is checked on every write.
    if (holder?.pid === undefined) return;
    this.#readOnly = new CheckpointStoreError(this.#location, `opened with { lock: false } while process ${holder.pid} on ${holder.host} holds the lock: it can be read, and every write is refused so that two writers never fork the checkpoint — open it with the lock to write`);
  }

  /** @throws the lost lock, `failure` (the latched failed write) or the refusal beside a holder */
  assertWritable(failure: unknown): void {
    if (this.#lockLost) throw new CheckpointLockLostError(this.#location, { cause: this.#lockLost });
    if (failure) throw failure;
    if (!this.#locked) {
      this.lookForHolder();
      if (this.#readOnly) throw this.#readOnly;
    }
  }
}
