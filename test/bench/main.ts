/**
 * The benchmark: `npm run bench` (the whole table: long, with the 10M-item checkpoint and the
 * PostgreSQL queues) or `npm run bench -- --quick` (a smoke test of a few minutes).
 * Options: `--only 1,4` runs the scenarios with these numbers; `--strict` exits 1 if a target
 * is missed (by default the targets are reported, never fatal, so CI can run it as a smoke test).
 * A scenario that fails to run (an error, not a missed target) always makes the exit code 1.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Figure, Scenario, ScenarioFailure } from './lib/figures.js';
import { makeWorkDirectory, ROOT, scaleFor } from './lib/measure.js';
import { figuresTable, targetsTable } from './lib/report.js';
import { checkTargets } from './lib/targets.js';
import { bigScenario } from './scenarios/big.js';
import { forEachScenario } from './scenarios/for-each.js';
import { hugeScenario } from './scenarios/huge.js';
import { marksScenario } from './scenarios/marks.js';
import { objectStorageScenario } from './scenarios/object-storage.js';
import { peersScenario } from './scenarios/peers.js';
import { postgresScenario } from './scenarios/postgres.js';
import { queuePeersScenario } from './scenarios/queue-peers.js';
import { seedsScenario } from './scenarios/seeds.js';
import { sqliteScenario } from './scenarios/sqlite.js';

const SCENARIOS: Scenario[] = [marksScenario, seedsScenario, sqliteScenario, bigScenario, forEachScenario, postgresScenario, peersScenario, queuePeersScenario, hugeScenario, objectStorageScenario];
const LAST = Math.max(...SCENARIOS.flatMap((scenario) => scenario.numbers));

function parseArguments(argv: string[]): { quick: boolean; strict: boolean; only: Set<number> | undefined } {
  let only: Set<number> | undefined;
  const onlyAt = argv.indexOf('--only');
  if (onlyAt !== -1) {
    const list = argv[onlyAt + 1] ?? '';
    const numbers = list.split(',').map(Number);
    if (numbers.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 1 || n > LAST)) {
      throw new Error(`Expected \`--only\` to be a list of scenario numbers 1–${LAST} such as 1,4, got \`${list}\``);
    }
    only = new Set(numbers);
  }
  return { quick: argv.includes('--quick'), strict: argv.includes('--strict'), only };
}

const options = parseArguments(process.argv.slice(2));
const scale = scaleFor(options.quick);
const work = makeWorkDirectory();
const log = (line: string): void => console.log(line);
const started = performance.now();

log(`checkpointer benchmark${options.quick ? ' (--quick)' : ''}: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]!.toFixed(2)}`);
log(`files in ${work.fileSystem} (${work.realDisk ? 'a real disk: fsync reaches it' : 'in memory: fsync figures are NOT real'}); median of ${scale.repetitions} repetitions`);

const figures: Figure[] = [];
// A scenario that throws (PostgreSQL would not start, a child crashed) is reported and fails the
// run, whatever the options, but the other scenarios still run and print their figures.
const failures: ScenarioFailure[] = [];
try {
  for (const scenario of SCENARIOS) {
    if (options.only && !scenario.numbers.some((n) => options.only!.has(n))) continue;
    log(`\n[${scenario.numbers.join(', ')}] ${scenario.title}`);
    const start = performance.now();
    try {
      figures.push(...(await scenario.run({ scale, work, log })));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ scenarios: scenario.numbers, title: scenario.title, error: message });
      log(`  FAILED: ${message}`);
    }
    log(`  (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  }
} finally {
  rmSync(work.path, { recursive: true, force: true });
}

const targets = checkTargets(figures);
log(`\n${figuresTable(figures, failures)}\n`);
log(`${targetsTable(targets)}\n`);
const missed = targets.filter((target) => !target.met);
const failed = failures.length > 0 ? `; ${failures.length} scenario${failures.length > 1 ? 's' : ''} FAILED (${failures.map((f) => f.scenarios.join(', ')).join('; ')})` : '';
log(`${targets.length - missed.length} of ${targets.length} targets met${failed}${options.quick ? ' (quick run: smaller sizes, fewer repetitions)' : ''}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);

const results = {
  date: new Date().toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  quick: options.quick,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  loadAverage: loadavg(),
  fileSystem: work.fileSystem,
  realDisk: work.realDisk,
  repetitions: scale.repetitions,
  scale,
  figures,
  targets,
  failures,
};
writeFileSync(join(ROOT, 'test/bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
log('results written to test/bench/results.json');
process.exitCode = failures.length > 0 || (options.strict && missed.length > 0) ? 1 : 0;
