import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointManager, type Durability } from '../../src/index.js';
import { CRASH_POINTS, type CrashPointName } from '../../src/stores/file/crash-point.js';
import { parseLine, itemName, STEP, workerConfig, type OpenReport } from './protocol.js';
import { ChildWorker, seededRandom } from '../support/processes.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Where the final open's warnings go. */
export interface Logger {
  warn: (message: string) => void;
  error: (message: string) => void;
}

export interface TortureScenario {
  path: string;
  durability: Durability;
  items: number;
  /** How many SIGKILLs to land before the last run is allowed to finish. */
  kills: number;
  concurrency: number;
  batchSize?: number;
  /**
   * How many acknowledged marks one kill may lose, for a store whose mode acknowledges before
   * writing (an object store's `normal` and `batched`); the marks lost must be of the last run.
   * `batched` file stores lose at most `batchSize`; every other mode nothing.
   */
  lossBound?: number;
  seed: number;
  /** How long the last, unkilled run may take. */
  finalRunTimeoutMs?: number;
  /**
   * Another worker speaking the same protocol (PostgresStore): its script and config, and how to
   * open its checkpoint for the final check. Crash points live in the file store, so its kills
   * all come from outside.
   */
  worker?: { script: string; config: object; open: (logger: Logger) => Promise<CheckpointManager> };
}

export interface TortureResult {
  kills: number;
  /**
   * Kills by where they landed: a crash point's name, `ack` for a kill from outside after
   * acknowledged marks, or `open (timed)` for another worker killed from outside during its open.
   */
  killsAt: Record<string, number>;
  runs: number;
  violations: string[];
  /** `batched`: acknowledged marks each kill lost (every other mode must lose none). */
  maxLostPerKill: number;
}

type Plan = { point: CrashPointName; hit: number; fallbackAcks: number } | { point: undefined; fallbackAcks: number };

/** Aims two kills in three at a named point inside the store; the rest land after a random number of acks. */
function planKill(random: () => number, averageAcks: number): Plan {
  // At most this run's share of the pending items, so that the items never run out before the kills do.
  const fallbackAcks = 1 + Math.floor(random() * averageAcks);
  if (random() < 1 / 3) return { point: undefined, fallbackAcks };
  const point = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)]!;
  // Journal writes are frequent; aim anywhere in the run. Compactions are rarer: aim at the first few.
  const hit = point === 'journal:after-write' ? 1 + Math.floor(random() * 2 * averageAcks) : point.startsWith('compaction') ? 1 + Math.floor(random() * 2) : 1;
  return { point, hit, fallbackAcks };
}

/**
 * Runs the crash worker over `items` again and again, each run killed with SIGKILL at an aimed
 * crash point or after a random number of acknowledged marks, until `kills` kills have landed;
 * then lets a last run finish. After every restart: the checkpoint opens, no acknowledged item is
 * lost (`batched`: at most one batch of the last run), no acknowledged item is handed out again,
 * and every item is either completed or pending.
 */
export async function tortureRun(scenario: TortureScenario): Promise<TortureResult> {
  const random = seededRandom(scenario.seed);
  const config = workerConfig(scenario);
  const result: TortureResult = { kills: 0, killsAt: {}, runs: 0, violations: [], maxLostPerKill: 0 };
  const acked = new Set<string>();
  let ackedThisRun = new Set<string>();
  let finished = false;
  let remaining = scenario.items;
  let lastOpenMs: number | undefined;

  const checkOpen = (run: number, report: OpenReport): void => {
    const completed = new Set(report.completed);
    const lost = [...acked].filter((key) => !completed.has(key));
    if (scenario.durability === 'batched' || scenario.lossBound !== undefined) {
      const older = lost.filter((key) => !ackedThisRun.has(key));
      if (older.length > 0) result.violations.push(`run ${run}: lost items acknowledged before the last open: ${older.slice(0, 10).join(', ')}`);
      const bound = scenario.lossBound ?? scenario.batchSize ?? 100;
      if (lost.length > bound) result.violations.push(`run ${run}: lost ${lost.length} acknowledged items, more than the ${bound} a kill may lose`);
      result.maxLostPerKill = Math.max(result.maxLostPerKill, lost.length);
      for (const key of lost) acked.delete(key);
    } else if (lost.length > 0) {
      result.violations.push(`run ${run}: lost acknowledged items: ${lost.slice(0, 10).join(', ')}`);
    }
    const again = report.pending.filter((key) => acked.has(key));
    if (again.length > 0) result.violations.push(`run ${run}: acknowledged items handed out again: ${again.slice(0, 10).join(', ')}`);
    if (report.pending.length + completed.size !== scenario.items) {
      result.violations.push(`run ${run}: ${report.pending.length} pending + ${completed.size} completed is not ${scenario.items} items`);
    }
    ackedThisRun = new Set();
    remaining = report.pending.length;
  };

  for (let run = 1; !finished && result.violations.length === 0 && run <= scenario.kills * 3 + 10; run++) {
    result.runs++;
    const last = result.kills >= scenario.kills;
    // Spread the work over the kills, so that kills keep landing while items are still pending.
    let plan = planKill(random, Math.max(1, Math.floor((remaining / Math.max(1, scenario.kills - result.kills + 1)) * 0.8)));
    // Another worker has no crash points: a quarter of its kills are aimed at its open by time
    // instead, at a random moment between its `opening` line and how long the last open took.
    let openKillMs: number | undefined;
    if (scenario.worker) {
      plan = { point: undefined, fallbackAcks: plan.fallbackAcks };
      if (!last && lastOpenMs !== undefined && random() < 1 / 4) openKillMs = random() * lastOpenMs;
    }
    const child = scenario.worker
      ? spawnWorker(scenario.worker.config, undefined, scenario.worker.script)
      : spawnWorker(config, last || !plan.point ? undefined : `${plan.point}@${plan.hit}`);
    let acks = 0;
    let killedFromOutside = false;
    let killedInOpen = false;
    let done = false;
    let openingAt: number | undefined;
    let openTimer: NodeJS.Timeout | undefined;
    const finalTimer = last ? setTimeout(() => void child.kill(), scenario.finalRunTimeoutMs ?? 120_000) : undefined;
    child.onLine((line) => {
      if (line === 'opening') {
        openingAt = performance.now();
        if (openKillMs !== undefined) {
          openTimer = setTimeout(() => {
            killedInOpen = true;
            void child.kill();
          }, openKillMs);
        }
        return;
      }
      const message = parseLine(line);
      if (message.kind === 'open') {
        clearTimeout(openTimer);
        if (openingAt !== undefined) lastOpenMs = performance.now() - openingAt;
        checkOpen(run, message.report);
      }
      else if (message.kind === 'start' && acked.has(message.key)) result.violations.push(`run ${run}: started ${message.key} again after it was acknowledged`);
      else if (message.kind === 'ack') {
        acked.add(message.key);
        ackedThisRun.add(message.key);
        if (!last && ++acks === plan.fallbackAcks) {
          killedFromOutside = true;
          void child.kill();
        }
      } else if (message.kind === 'warn' && !/torn record/.test(message.message)) result.violations.push(`run ${run}: warning: ${message.message}`);
      else if (message.kind === 'error') result.violations.push(`run ${run}: the worker failed: ${message.message}`);
      else if (message.kind === 'done') done = true;
    });
    const exit = await child.exited;
    clearTimeout(finalTimer);
    clearTimeout(openTimer);
    if (exit.signal === 'SIGKILL') {
      if (last) {
        result.violations.push(`run ${run}: the last run did not finish in time`);
        break;
      }
      result.kills++;
      const where = killedInOpen ? 'open (timed)' : killedFromOutside || !plan.point ? 'ack' : plan.point;
      result.killsAt[where] = (result.killsAt[where] ?? 0) + 1;
    } else if (exit.code !== 0 || !done) {
      result.violations.push(`run ${run}: the worker exited with ${JSON.stringify(exit)}: ${child.stderr.slice(-2000)}`);
    }
    finished = done && last;
  }
  if (result.violations.length === 0) result.violations.push(...(await finalCheck(scenario)));
  return result;
}

function spawnWorker(config: object, crashAt: string | undefined, script = WORKER): ChildWorker {
  // The child inherits the environment at spawn time; set the crash point only for this spawn.
  const previous = process.env.CHECKPOINTER_CRASH_AT;
  if (crashAt) process.env.CHECKPOINTER_CRASH_AT = crashAt;
  else delete process.env.CHECKPOINTER_CRASH_AT;
  try {
    return new ChildWorker(script, [JSON.stringify(config)]);
  } finally {
    if (previous === undefined) delete process.env.CHECKPOINTER_CRASH_AT;
    else process.env.CHECKPOINTER_CRASH_AT = previous;
  }
}

/** After the last run: every item completed exactly once as far as the checkpoint knows, nothing set aside as damaged. */
async function finalCheck(scenario: TortureScenario): Promise<string[]> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const logger: Logger = { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
  const cp = scenario.worker ? await scenario.worker.open(logger) : await CheckpointManager.open({ path: scenario.path, pipeline: 'crash-test', lock: false, logger });
  try {
    const items = Array.from({ length: scenario.items }, (_, i) => itemName(i));
    const pending = cp.pendingItems(STEP, items);
    if (pending.length > 0) problems.push(`final state: ${pending.length} items still pending`);
    const counts = cp.getProgressSummary().steps[STEP];
    if (counts?.completed !== scenario.items) problems.push(`final state: ${counts?.completed} of ${scenario.items} completed`);
  } finally {
    await cp.close();
  }
  if (warnings.length > 0) problems.push(`final open warned: ${warnings.join('; ')}`);
  if (scenario.worker) return problems;
  const names = readdirSync(dirname(scenario.path));
  const damaged = names.filter((name) => name.includes('.corrupt-'));
  if (damaged.length > 0) problems.push(`files set aside as damaged: ${damaged.join(', ')}`);
  // Temp files of snapshot writes cut short by a kill are removed by the next writer's open.
  const strays = names.filter((name) => /\.\d+$/.test(name) && !/\.(journal|bak)\.\d+$/.test(name));
  if (strays.length > 0) problems.push(`temp files left behind: ${strays.join(', ')}`);
  return problems;
}
