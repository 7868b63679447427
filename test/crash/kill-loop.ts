import { fileURLToPath } from 'node:url';
import type { Durability } from '../../src/index.js';
import { ChildWorker, seededRandom } from '../support/processes.js';
import { parseLine, workerConfig, type OpenReport } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const FINAL_RUN_TIMEOUT_MS = 45_000;

export interface Scenario {
  path: string;
  durability: Durability;
  /** How many times the worker is killed after it opened the checkpoint. */
  kills: number;
  items: number;
  concurrency: number;
  batchSize?: number;
  seed: number;
}

export interface KillLoopResult {
  /** Kills that landed after the worker had opened the checkpoint (while it was marking). */
  kills: number;
  /** Kills that landed before it opened (during start-up, locking, loading). */
  earlyKills: number;
  runs: number;
  /** Broken invariants, in words; empty when everything held. */
  violations: string[];
  /** How often each item was started, over all runs. */
  starts: Map<string, number>;
  /** `batched` only: acknowledged items each kill lost (all others must lose none). */
  lostPerKill: number[];
  /** Reopens that found a new sealed journal or temporary file: kills inside a compaction. */
  compactionKills: number;
}

type KillPlan = { after: 'acks'; count: number } | { after: 'open' | 'spawn'; ms: number };

function planKill(random: () => number): KillPlan {
  const pick = random();
  if (pick < 0.4) return { after: 'acks', count: 1 + Math.floor(random() * 40) };
  if (pick < 0.8) return { after: 'open', ms: Math.floor(random() * 40) };
  // Early enough to land in start-up, the lock, loading or the first marks.
  return { after: 'spawn', ms: 200 + Math.floor(random() * 600) };
}

/**
 * Runs the worker again and again, killing it with SIGKILL at seeded random moments, until it
 * has been killed `kills` times while marking; then lets one last run finish every item.
 * Checks on every reopen that no acknowledged item was lost (`batched`: at most `batchSize`
 * per kill) and none is handed out again.
 */
export async function killLoop(scenario: Scenario): Promise<KillLoopResult> {
  const random = seededRandom(scenario.seed);
  const config = workerConfig(scenario);
  const result: KillLoopResult = { kills: 0, earlyKills: 0, runs: 0, violations: [], starts: new Map(), lostPerKill: [], compactionKills: 0 };
  const acked = new Set<string>();
  let ackedSinceOpen = new Set<string>();
  let confirmed = new Set<string>();
  let leftovers = new Set<string>();
  let finished = false;

  const checkOpen = (run: number, report: OpenReport): void => {
    const completed = new Set(report.completed);
    if (report.leftovers.some((file) => !leftovers.has(file))) result.compactionKills++;
    leftovers = new Set(report.leftovers);
    const fail = (what: string): void => {
      result.violations.push(`run ${run}: ${what}`);
    };
    const forgotten = [...confirmed].filter((key) => !completed.has(key));
    if (forgotten.length > 0) fail(`items completed at an earlier open are no longer completed: ${forgotten.join(', ')}`);
    const lost = [...acked].filter((key) => !completed.has(key));
    if (scenario.durability === 'batched') {
      const bound = scenario.batchSize ?? 100;
      if (lost.length > bound) fail(`lost ${lost.length} acknowledged items, more than one batch (${bound}): ${lost.join(', ')}`);
      const older = lost.filter((key) => !ackedSinceOpen.has(key));
      if (older.length > 0) fail(`lost items acknowledged before the last open: ${older.join(', ')}`);
      if (ackedSinceOpen.size > 0) result.lostPerKill.push(lost.length);
      for (const key of lost) acked.delete(key);
    } else if (lost.length > 0) {
      fail(`lost acknowledged items: ${lost.join(', ')}`);
    }
    const again = report.pending.filter((key) => acked.has(key));
    if (again.length > 0) fail(`acknowledged items handed out again: ${again.join(', ')}`);
    if (report.pending.length + completed.size !== scenario.items) {
      fail(`${report.pending.length} pending + ${completed.size} completed is not ${scenario.items} items`);
    }
    confirmed = completed;
    ackedSinceOpen = new Set();
  };

  for (let run = 1; !finished && result.runs < scenario.kills * 3 + 5; run++) {
    result.runs++;
    const last = result.kills >= scenario.kills;
    const plan = planKill(random);
    const child = new ChildWorker(WORKER, [JSON.stringify(config)]);
    const timers: NodeJS.Timeout[] = [];
    const killIn = (ms: number): void => {
      timers.push(setTimeout(() => void child.kill(), ms));
    };
    let opened = false;
    let acks = 0;
    let done = false;
    child.onLine((line) => {
      const message = parseLine(line);
      switch (message.kind) {
        case 'open':
          opened = true;
          checkOpen(run, message.report);
          if (!last && plan.after === 'open') killIn(plan.ms);
          // A kill planned from the spawn must not miss a worker that started quickly and
          // would finish every item first.
          if (!last && plan.after === 'spawn') killIn(30);
          break;
        case 'start':
          result.starts.set(message.key, (result.starts.get(message.key) ?? 0) + 1);
          if (acked.has(message.key)) result.violations.push(`run ${run}: started ${message.key} again after it was acknowledged`);
          break;
        case 'ack':
          acked.add(message.key);
          ackedSinceOpen.add(message.key);
          if (!last && plan.after === 'acks' && ++acks === plan.count) void child.kill();
          break;
        case 'warn':
          // A record cut short by the kill is expected; anything else (a recovery from a
          // backup, a failed compaction) means a kill damaged more than the journal's tail.
          if (!/torn record/.test(message.message)) result.violations.push(`run ${run}: warning: ${message.message}`);
          break;
        case 'error':
          result.violations.push(`run ${run}: the worker failed: ${message.message}`);
          break;
        case 'done':
          done = true;
          break;
      }
    });
    if (!last && plan.after === 'spawn') killIn(plan.ms);
    if (last) timers.push(setTimeout(() => void child.kill(), FINAL_RUN_TIMEOUT_MS));
    const exit = await child.exited;
    for (const timer of timers) clearTimeout(timer);
    if (exit.signal === 'SIGKILL') {
      if (last) result.violations.push(`run ${run}: the last run did not finish within ${FINAL_RUN_TIMEOUT_MS} ms`);
      else if (opened) result.kills++;
      else result.earlyKills++;
    } else if (exit.code !== 0 || !done) {
      result.violations.push(`run ${run}: the worker exited with ${JSON.stringify(exit)}: ${child.stderr.slice(-2000)}`);
    }
    finished = done;
    if (result.violations.length > 0) break;
  }
  return result;
}
