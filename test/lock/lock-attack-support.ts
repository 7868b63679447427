import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type TestContext } from 'vitest';
import { CheckpointLockedError, CheckpointManager } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';
import type { HolderPlan } from './busy-holder.js';

const HOLDER = fileURLToPath(new URL('./busy-holder.ts', import.meta.url));
export const OTHER_HOST = 'checkpointer-other-host';

const quiet = { warn: (): void => {}, error: (): void => {} };

/**
 * The children and directories of one test, removed when it finishes (tests of a file run
 * concurrently, so each keeps its own).
 */
export class AttackScope {
  readonly #children: ChildWorker[] = [];
  readonly #directories: string[] = [];

  /** @param context the test's own context: with concurrent tests, the global hooks may belong to another test */
  constructor(context: TestContext) {
    context.onTestFinished(() => this.#cleanUp());
  }

  async #cleanUp(): Promise<void> {
    for (const child of this.#children.splice(0)) {
      child.process.kill('SIGCONT');
      await child.kill();
    }
    for (const directory of this.#directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  }

  checkpointPath(): string {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-lock-attack-'));
    this.#directories.push(directory);
    return join(directory, 'checkpoint.json');
  }

  /**
   * Starts a holder. `namespace: 'host'` runs it in a UTS namespace of its own with another
   * host name, as a process on another machine sharing the file system would look (`unshare
   * -u`; as a user that is not root, inside a user namespace too); `'pid'` and `'time'` in a PID
   * or time namespace of its own with the same host name, as in a container.
   */
  async startHolder(path: string, plan: HolderPlan, options: { namespace?: 'host' | 'pid' | 'time'; env?: NodeJS.ProcessEnv; waitForOpen?: boolean } = {}): Promise<ChildWorker> {
    const asUser = process.getuid?.() === 0 ? [] : ['-r'];
    const wrappers = {
      host: ['unshare', ...asUser, '-u', 'sh', '-c', `hostname ${OTHER_HOST} && exec "$0" "$@"`, '{}'],
      // A container that shares the volume and the host name but has pids of its own.
      pid: ['unshare', ...asUser, '-p', '-f', '--mount-proc', '{}'],
      // A restored (CRIU) container: the same pids, but start times shifted by its boot offset.
      time: ['unshare', ...asUser, '-T', '-f', '--boottime', '100000', '{}'],
    };
    const wrapper = options.namespace ? wrappers[options.namespace] : undefined;
    const holder = new ChildWorker(HOLDER, [path, JSON.stringify(plan)], { env: { ...process.env, ...options.env }, ...(wrapper ? { wrapper } : {}) });
    this.#children.push(holder);
    if (options.waitForOpen === false) return holder;
    const first = await holder.waitForLine((line) => line === 'open' || line.startsWith('error'));
    expect(first, holder.stderr).toBe('open');
    return holder;
  }
}

export function acked(holder: ChildWorker): string[] {
  return holder.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
}

export function refused(holder: ChildWorker): string[] {
  return holder.lines.filter((line) => line.startsWith('refused '));
}

/** Resolves once `count` more acks than `from` have arrived. */
export function waitForAcks(holder: ChildWorker, count: number): Promise<string> {
  let seen = 0;
  return holder.waitForLine((line) => line.startsWith('ack ') && ++seen >= count);
}

/** Opens the checkpoint as a second process would: the manager, or the error it got. */
export async function tryOpen(path: string): Promise<CheckpointManager | Error> {
  return CheckpointManager.open({ path, pipeline: 'lock-attack', logger: quiet }).catch((error: unknown) => error as Error);
}

/**
 * Tries to open again and again for as long as `holder` runs: every try must be refused with a
 * CheckpointLockedError naming `holderIs`. Resolves with how long after the first try the last
 * refusal came.
 */
export async function expectLockedWhileRunning(path: string, holder: ChildWorker, holderIs: object): Promise<number> {
  const startedAt = Date.now();
  let lastRefusalAfterMs = 0;
  while (!holder.lines.includes('done')) {
    const opened = await tryOpen(path);
    if (!(opened instanceof Error)) {
      // The holder may have finished and closed between the check above and this open: that is
      // no second writer if every mark it acknowledged is in what was opened. A live holder taken
      // over mid-run would have acknowledged marks after it.
      await holder.waitForLine((line) => line === 'closing');
      const missing = acked(holder).filter((key) => !opened.isItemCompleted('work', key));
      await opened.close();
      if (missing.length > 0 || refused(holder).length > 0) throw new Error(`a second process opened the checkpoint of a live holder that kept marking (${missing.length} of its acknowledged marks missing there)`);
      break;
    }
    expect(opened).toBeInstanceOf(CheckpointLockedError);
    expect(opened).toMatchObject(holderIs);
    lastRefusalAfterMs = Date.now() - startedAt;
    await sleep(250);
  }
  return lastRefusalAfterMs;
}

/** Tries to open again and again until it gets the lock (a takeover); every refusal must be a CheckpointLockedError. */
export async function openWhenTakenOver(path: string): Promise<CheckpointManager> {
  for (;;) {
    const opened = await tryOpen(path);
    if (opened instanceof CheckpointManager) return opened;
    expect(opened, opened.message).toBeInstanceOf(CheckpointLockedError);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The process that runs the holder's code: `unshare -f` forks it as a child of its own, so
 * signals for the holder go to the innermost descendant.
 */
export function holderPid(holder: ChildWorker): number {
  let pid = holder.pid;
  for (;;) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children === '') return pid;
    pid = Number(children.split(' ')[0]);
  }
}

/** Waits until the process is stopped (state T in /proc): it froze itself at a stop point. */
export async function waitUntilStopped(pid: number): Promise<void> {
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the checkpoint once everyone is gone and checks that every key in `keys` is completed. */
export async function expectAllCompleted(path: string, keys: readonly string[]): Promise<void> {
  const cp = await CheckpointManager.open({ path, pipeline: 'lock-attack', logger: quiet });
  try {
    const missing = keys.filter((key) => !cp.isItemCompleted('work', key));
    expect(missing).toEqual([]);
  } finally {
    await cp.close();
  }
}
