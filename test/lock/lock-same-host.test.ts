/**
 * A holder on this host is never taken over while its process lives, however long it goes
 * without refreshing its lock: busy in synchronous work, or frozen with SIGSTOP.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CheckpointLockedError } from '../../src/index.js';
import { acked, AttackScope, expectAllCompleted, expectLockedWhileRunning, refused, sleep, tryOpen, waitForAcks } from './lock-attack-support.js';

describe.concurrent('a live holder on this host', () => {
  it('busy in synchronous work for over 15 s between marks keeps its lock', async (context) => {
    const scope = new AttackScope(context);
    const path = scope.checkpointPath();
    // 40 ms of synchronous work before each mark, 400 marks: 16 s in which, with `normal`
    // durability, every mark resolves at once and no timer of the holder ever runs.
    const holder = await scope.startHolder(path, { prefix: 'busy-', items: 400, busyMs: 40 });
    const lastRefusalAfterMs = await expectLockedWhileRunning(path, holder, { pid: holder.pid, host: hostname() });
    // The attack lasted past the 10 s after which an old lock used to be taken over.
    expect(lastRefusalAfterMs).toBeGreaterThan(12_000);
    expect(refused(holder)).toEqual([]);
    expect(acked(holder)).toHaveLength(400);
    await holder.exited;
    await expectAllCompleted(path, acked(holder));
  });

  it('frozen with SIGSTOP for 15 s keeps its lock and carries on after SIGCONT', async (context) => {
    const scope = new AttackScope(context);
    const path = scope.checkpointPath();
    const holder = await scope.startHolder(path, { prefix: 'frozen-', items: 300, busyMs: 10 });
    await waitForAcks(holder, 20);
    holder.process.kill('SIGSTOP');
    await sleep(15_000);
    const opened = await tryOpen(path);
    if (!(opened instanceof Error)) await opened.close();
    expect(opened).toBeInstanceOf(CheckpointLockedError);
    expect(opened).toMatchObject({ pid: holder.pid, host: hostname() });
    holder.process.kill('SIGCONT');
    await holder.waitForLine((line) => line === 'done');
    expect(refused(holder)).toEqual([]);
    expect(acked(holder)).toHaveLength(300);
    await expectAllCompleted(path, acked(holder));
  });
});
