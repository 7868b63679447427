import { randomUUID } from 'node:crypto';
import { CheckpointCorruptError, CheckpointLockedError, CheckpointLockLostError, CheckpointStoreError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json.js';
import { here, isAlive, isLocal, processStart, type Owner } from '../file/lock-owner.js';
import type { ObjectBucket } from './bucket.js';
import { createOwn, replaceOwn } from './conditional-writes.js';
import { leaseKey } from './object-keys.js';

/** The lease object's content. */
export interface LeaseBody {
  owner: Owner;
  /**
   * Raised by every new holder, to the clock's seconds at least: segments carry it, so a stale
   * holder's late writes are told apart.
   */
  epoch: number;
  /** Wall-clock time after which another process may take the lease over. */
  expiresAt: string;
  /** Set when the holder closed the checkpoint: anyone may take it at once. */
  released?: boolean;
  /**
   * Set, with `released`, when the holder removed the checkpoint (`complete()`): the lease is
   * kept, so that segments a holder that had lost it writes late are known for leftovers. The
   * next holder keeps it until it has written a snapshot of its own.
   */
  removed?: boolean;
  /** Counts the holder's writes, so that every lease body is unique (see conditional-writes.ts). */
  renewals: number;
}

export interface LeaseOptions {
  ttlMs: number;
  renewMs: number;
  /** Told once, when the lease is found lost: from then on nothing may be acknowledged. */
  onLost(error: CheckpointLockLostError): void;
}

const MAX_ACQUIRE_ATTEMPTS = 8;

/**
 * The epoch a new holder takes: above the lease's, and not below the clock's seconds, so that
 * epochs keep rising even where the lease object was deleted. Restarting at 1 would let a late
 * segment of an old epoch-1 holder pass for one of the new holder's.
 */
const nextEpoch = (current: number | undefined): number => Math.max((current ?? 0) + 1, Math.floor(Date.now() / 1000));
const encode = (body: LeaseBody): Uint8Array => Buffer.from(`${JSON.stringify(body, null, 2)}\n`);

/**
 * The one-writer lease of a checkpoint in a bucket: an object written only with conditional
 * writes, renewed in the background. A holder trusts its lease for two thirds of the time to
 * live after it sent the renewal that succeeded (by its own monotonic clock); the last third
 * absorbs clock skew between hosts, since another host takes over once the wall-clock expiry is
 * past. A renewal that finds the lease replaced loses it at once.
 */
export class Lease {
  readonly #bucket: ObjectBucket;
  readonly #key: string;
  readonly #location: string;
  readonly #options: LeaseOptions;
  #body: LeaseBody;
  #version: string;
  /** Monotonic time (performance.now) until which this holder may acknowledge. */
  #validUntil: number;
  #lastRenewal: number;
  #renewing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lost: CheckpointLockLostError | undefined;
  /** Whether the lease taken over was left by a removal: what is left of the checkpoint was written late. */
  readonly tookOverRemoved: boolean;

  private constructor(bucket: ObjectBucket, key: string, location: string, options: LeaseOptions, body: LeaseBody, version: string, sentAt: number, tookOverRemoved: boolean) {
    this.#bucket = bucket;
    this.#key = leaseKey(key);
    this.#location = location;
    this.#options = options;
    this.#body = body;
    this.#version = version;
    this.tookOverRemoved = tookOverRemoved;
    this.#lastRenewal = sentAt;
    this.#validUntil = sentAt + this.#trustMs();
    this.#timer = setInterval(() => void this.renew(), options.renewMs);
    this.#timer.unref();
  }

  /**
   * Takes the lease of `key`: creates it, or takes over one that was released, has expired, or
   * whose holder is a process on this host that no longer runs.
   * @throws CheckpointLockedError naming the holder while its lease is live
   */
  static async acquire(bucket: ObjectBucket, key: string, location: string, options: LeaseOptions): Promise<Lease> {
    const owner: Owner = { ...here(), pid: process.pid, since: new Date().toISOString(), token: randomUUID(), ...startedField() };
    for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt++) {
      const found = await bucket.get(leaseKey(key));
      const current = found && parseLease(found.body, `${location}.lease`);
      if (current && isLeaseLive(current)) throw new CheckpointLockedError(location, { pid: current.owner.pid, host: current.owner.host }, heldHint(location, current));
      // A removal's mark stays until this holder has a snapshot of its own (see forgetRemoval):
      // killed before, it leaves the next holder what it found.
      const body: LeaseBody = { owner, epoch: nextEpoch(current?.epoch), expiresAt: '', renewals: 0, ...(current?.removed === true ? { removed: true } : {}) };
      const sentAt = performance.now();
      body.expiresAt = new Date(Date.now() + options.ttlMs).toISOString();
      const bytes = encode(body);
      const version = found ? await replaceOwn(bucket, leaseKey(key), bytes, found.version) : await createOwn(bucket, leaseKey(key), bytes);
      // Another opener was faster: read again, to report it or to find its lease expired.
      if (version !== undefined) return new Lease(bucket, key, location, options, body, version, sentAt, current?.removed === true);
    }
    throw new CheckpointLockedError(location, {}, heldHint(location));
  }

  get epoch(): number {
    return this.#body.epoch;
  }

  /** Throws unless this holder may still acknowledge: the lease is neither lost nor past its trusted time. */
  assertHeld(now = performance.now()): void {
    if (this.#lost) throw this.#lost;
    if (now >= this.#validUntil) {
      this.#lose(new Error(`not renewed for ${Math.round(now - this.#lastRenewal)} ms (time to live ${this.#options.ttlMs} ms): another process may have taken it over`));
      throw this.#lost!;
    }
  }

  /** Whether a renewal is overdue, e.g. because a busy loop starved the timer. */
  overdue(now = performance.now()): boolean {
    return now - this.#lastRenewal >= this.#options.renewMs * 1.5;
  }

  /** Renews the lease now (or joins the renewal in flight). Never rejects: a failure is reported through `onLost` or `assertHeld`. */
  renew(): Promise<void> {
    if (this.#lost || !this.#timer) return Promise.resolve();
    this.#renewing ??= this.#write({ ...this.#body, renewals: this.#body.renewals + 1 }).finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  /** Drops the mark of a removal, once this holder wrote a snapshot: late segments are then of an older epoch than it. */
  async forgetRemoval(): Promise<void> {
    if (this.#body.removed !== true) return;
    await this.#renewing;
    const { removed: _, ...rest } = this.#body;
    await this.#write({ ...rest, renewals: this.#body.renewals + 1 });
  }

  /** Raises the epoch above `epoch` (a snapshot or segment of a later epoch than the lease's was found). */
  async raiseEpochAbove(epoch: number): Promise<void> {
    if (this.#body.epoch > epoch) return;
    await this.#renewing;
    await this.#write({ ...this.#body, epoch: epoch + 1, renewals: this.#body.renewals + 1 });
    this.assertHeld();
    // Writing segments under an epoch that is not above every one found would mix histories.
    if (this.#body.epoch <= epoch) throw new CheckpointStoreError(this.#location, `could not raise the lease's epoch above ${epoch} (found in the bucket): try opening again`);
  }

  async #write(next: LeaseBody): Promise<void> {
    const sentAt = performance.now();
    next.expiresAt = new Date(Date.now() + this.#options.ttlMs).toISOString();
    try {
      const version = await replaceOwn(this.#bucket, this.#key, encode(next), this.#version);
      if (version === undefined) return this.#lose(new Error('the lease object was replaced by another process'));
      this.#body = next;
      this.#version = version;
      this.#lastRenewal = sentAt;
      this.#validUntil = sentAt + this.#trustMs();
    } catch {
      // A renewal that failed for good (the adapter already retried) is tried again on the next
      // tick; meanwhile the lease runs down, and assertHeld refuses once it is no longer trusted.
    }
  }

  #trustMs(): number {
    return (this.#options.ttlMs * 2) / 3;
  }

  #lose(cause: Error): void {
    if (this.#lost) return;
    this.#lost = new CheckpointLockLostError(this.#location, { cause });
    clearInterval(this.#timer);
    this.#options.onLost(this.#lost);
  }

  /** Stops renewing and marks the lease released (keeping its epoch), unless it was lost. */
  async release(mark: { removed?: true } = {}): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewing;
    if (this.#lost) return;
    const body = { ...this.#body, released: true, ...mark, expiresAt: new Date().toISOString(), renewals: this.#body.renewals + 1 };
    await this.#bucket.replace(this.#key, encode(body), this.#version).catch(() => {});
  }

  /**
   * Stops renewing and marks the lease released and removed (the checkpoint was removed). It is
   * kept rather than deleted, with its epoch: a holder that lost the lease earlier may still write
   * a segment late, and the next holder must know it for a leftover, not for a damaged checkpoint.
   */
  async remove(): Promise<void> {
    await this.release({ removed: true });
  }
}

const startedField = (): { started?: string } => {
  const started = processStart(process.pid);
  return started === undefined || started === 'zombie' ? {} : { started };
};

/** Whether a lease still keeps others out: not released, not expired, and not held by a process on this host that is gone. */
export function isLeaseLive(lease: LeaseBody): boolean {
  if (lease.released || Date.parse(lease.expiresAt) <= Date.now()) return false;
  return !isLocal(lease.owner) || isAlive(lease.owner);
}

export function parseLease(bytes: Uint8Array, where: string): LeaseBody {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    raw = undefined;
  }
  const owner = isJsonObject(raw) ? raw.owner : undefined;
  if (!isJsonObject(raw) || !isJsonObject(owner) || typeof owner.pid !== 'number' || typeof owner.host !== 'string' || !Number.isSafeInteger(raw.epoch) || typeof raw.expiresAt !== 'string') {
    throw new CheckpointCorruptError(where, [{ path: '', message: 'not a lease this library wrote (expected owner, epoch and expiresAt)' }], {
      hint: 'if no process is running on this checkpoint, delete the lease object and open it again',
    });
  }
  return raw as unknown as LeaseBody;
}

/** What to do about a live lease: buckets have no read-only open, the CLI reads without it. */
function heldHint(location: string, lease?: LeaseBody): string {
  const until = lease ? ` (a holder that stopped loses it at ${lease.expiresAt})` : '';
  return `wait for it to finish or stop it${until}; "checkpoint-resume status ${location}" reads it meanwhile`;
}
