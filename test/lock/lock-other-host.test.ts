/**
 * Holders on another host (here: another UTS namespace with its own host name) share the file
 * system but not the process table: they are judged by time. One that keeps marking keeps its
 * lock, even with an event loop too busy for timers; one frozen or stuck past the stale time is
 * taken over and then acknowledges nothing more, and nothing it writes late is read.
 */
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointLockedError, type Durability } from '../../src/index.js';
import type { ChildWorker } from '../support/processes.js';
import { acked, AttackScope, expectLockedWhileRunning, holderPid, expectAllCompleted, openWhenTakenOver, OTHER_HOST, refused, tryOpen, waitForAcks, waitUntilStopped } from './lock-attack-support.js';


/** After the takeover the old holder may still be running: every mark it tries must be refused. */
function expectNothingAckedAfterRefusal(holder: ChildWorker): void {
  const firstRefusal = holder.lines.findIndex((line) => line.startsWith('refused '));
  expect(firstRefusal, holder.lines.slice(-5).join('\n')).toBeGreaterThan(-1);
  expect(holder.lines.slice(firstRefusal).filter((line) => line.startsWith('ack '))).toEqual([]);
  expect(refused(holder).every((line) => line.endsWith(' CHECKPOINT_LOCK_LOST'))).toBe(true);
}

describe.concurrent('a holder on another host', () => {
  it('that keeps marking keeps its lock, though its timers never run', async (context) => {
    const scope = new AttackScope(context);
    const path = scope.checkpointPath();
    const holder = await scope.startHolder(path, { prefix: 'keep-', items: 350, busyMs: 40 }, { namespace: 'host' });
    await expectLockedWhileRunning(path, holder, { pid: expect.any(Number), host: OTHER_HOST });
    expect(refused(holder)).toEqual([]);
    expect(acked(holder)).toHaveLength(350);
    await expectAllCompleted(path, acked(holder));
  });

  for (const durability of ['normal', 'full'] as Durability[]) {
    it(`frozen past the stale time (${durability}) is taken over, then acknowledges nothing more`, async (context) => {
      const scope = new AttackScope(context);
      const path = scope.checkpointPath();
      const holder = await scope.startHolder(path, { prefix: 'old-', items: 1_000_000, busyMs: 1, durability }, { namespace: 'host' });
      await waitForAcks(holder, 30);
      holder.process.kill('SIGSTOP');
      const successor = await openWhenTakenOver(path);
      const mine = Array.from({ length: 20 }, (_, n) => `new-${n}`);
      for (const key of mine) await successor.markItemCompleted('work', key);
      holder.process.kill('SIGCONT');
      await holder.waitForLine((line) => line === 'done');
      expectNothingAckedAfterRefusal(holder);
      await successor.markItemCompleted('work', 'new-after');
      await successor.close();
      await expectAllCompleted(path, [...acked(holder), ...mine, 'new-after']);
    });
  }

  // Frozen at the worst moments: with a mark written but not yet acknowledged, and inside a
  // compaction (journal sealed; backups rotated; snapshot written, sealed journal not yet
  // deleted). The successor is then killed too, before it compacted: a third process must still
  // open the checkpoint and find every acknowledged mark.
  for (const stopAt of ['journal:after-write@40', 'compaction:after-seal@2', 'compaction:after-backup@2', 'compaction:before-sealed-delete@2']) {
    it(`frozen at ${stopAt}, taken over, its successor SIGKILLed: nothing acknowledged is lost`, async (context) => {
      const scope = new AttackScope(context);
      const path = scope.checkpointPath();
      const holder = await scope.startHolder(path, { prefix: 'old-', items: 1_000_000, busyMs: 0, minCompactBytes: 4096 }, { namespace: 'host', env: { CHECKPOINTER_STOP_AT: stopAt } });
      await waitUntilStopped(holder.pid);
      const successor = await scope.startHolder(path, { prefix: 'new-', items: 50, busyMs: 0, minCompactBytes: 4096, waitForLock: true, holdOpen: true });
      await successor.waitForLine((line) => line === 'holding');
      await successor.kill();
      holder.process.kill('SIGCONT');
      await holder.waitForLine((line) => line === 'done');
      expectNothingAckedAfterRefusal(holder);
      expect(acked(successor)).toHaveLength(50);
      await expectAllCompleted(path, [...acked(holder), ...acked(successor)]);
    });
  }

  for (const namespace of ['pid', 'time'] as const) {
    it(`in a ${namespace} namespace of its own with the same host name (a container) is judged like another host`, async (context) => {
      const scope = new AttackScope(context);
      const path = scope.checkpointPath();
      const holder = await scope.startHolder(path, { prefix: 'old-', items: 1_000_000, busyMs: 1 }, { namespace });
      await waitForAcks(holder, 30);
      // Its pid means nothing here: it is not taken over as dead while it keeps marking…
      const early = await tryOpen(path);
      if (!(early instanceof Error)) await early.close();
      expect(early).toBeInstanceOf(CheckpointLockedError);
      // …and once frozen past the stale time it is taken over, then acknowledges nothing more.
      const pid = holderPid(holder);
      process.kill(pid, 'SIGSTOP');
      const successor = await openWhenTakenOver(path);
      const mine = Array.from({ length: 20 }, (_, n) => `new-${n}`);
      for (const key of mine) await successor.markItemCompleted('work', key);
      process.kill(pid, 'SIGCONT');
      await holder.waitForLine((line) => line === 'done');
      expectNothingAckedAfterRefusal(holder);
      await successor.close();
      await expectAllCompleted(path, [...acked(holder), ...mine]);
    });
  }

  it('stuck in one long synchronous item is taken over, and its mark after it is refused', async (context) => {
    const scope = new AttackScope(context);
    const path = scope.checkpointPath();
    const release = join(dirname(path), 'release');
    const holder = await scope.startHolder(path, { prefix: 'old-', items: 100, busyMs: 1, stuckAt: 10, stuckUntil: release }, { namespace: 'host' });
    await holder.waitForLine((line) => line.startsWith('stuck '));
    const successor = await openWhenTakenOver(path);
    const mine = Array.from({ length: 20 }, (_, n) => `new-${n}`);
    for (const key of mine) await successor.markItemCompleted('work', key);
    writeFileSync(release, '');
    await holder.waitForLine((line) => line === 'done');
    expect(holder.lines).toContain('refused old-10 CHECKPOINT_LOCK_LOST');
    expectNothingAckedAfterRefusal(holder);
    await successor.close();
    await expectAllCompleted(path, [...acked(holder), ...mine]);
  });
});
