/**
 * The long reliability run: `npm run test:torture`.
 *   --kills <n>   SIGKILLs per durability mode and format (default 200)
 *   --items <n>   items the worker goes through (default 10000)
 *   --fuzz <n>    cases per fuzz property (default 1000)
 *   --pg-items <n> items of the PostgresStore kill runs (default 2000: a worker process starts
 *                  and loads its checkpoint from the database on every restart)
 *   --only <suites> a comma-separated choice of kill (file stores), pg (PostgresStore), object
 *                  (AzureBlobStore on a throwaway Azurite), fuzz; default all four. pg starts a throwaway PostgreSQL server, or uses
 *                  CHECKPOINTER_PG_URL (a fresh schema per durability mode, dropped afterwards).
 *   --object-items <n> items of the az:// kill runs against Azurite (default 1000)
 *   --parallel <n> kill scenarios run side by side (default 2)
 * Prints one line per scenario and a summary; exits 1 if any invariant was broken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tortureRun } from './kill-torture.js';
import { postgresTortureScenarios, type KillScenario } from './pg-torture.js';
import { objectTortureScenarios } from './object-torture.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    items: { type: 'string', default: '10000' },
    'pg-items': { type: 'string', default: '2000' },
    'object-items': { type: 'string', default: '1000' },
    fuzz: { type: 'string', default: '1000' },
    only: { type: 'string', default: 'kill,pg,object,fuzz' },
    parallel: { type: 'string', default: '2' },
  },
});
const kills = Number(values.kills);
const items = Number(values.items);
const pgItems = Number(values['pg-items']);
const fuzzRuns = Number(values.fuzz);
const suites = new Set(values.only.split(',').map((suite) => suite.trim()));
for (const suite of suites) {
  if (!['kill', 'pg', 'object', 'fuzz'].includes(suite)) throw new Error(`Expected \`--only\` to list kill, pg, object or fuzz, got \`${suite}\``);
}
let violations = 0;
const started = Date.now();


function fileScenarios(): KillScenario[] {
  const scenarios: KillScenario[] = [];
  for (const format of ['json', 'yaml'] as const) {
    for (const durability of ['full', 'normal', 'batched'] as const) {
      const seed = 20_000 + scenarios.length;
      const batchSize = durability === 'batched' ? 50 : undefined;
      scenarios.push({
        label: format,
        durability,
        ...(batchSize ? { batchSize } : {}),
        run: async () => {
          const directory = mkdtempSync(join(tmpdir(), 'checkpointer-torture-'));
          try {
            return await tortureRun({ path: join(directory, `checkpoint.${format}`), durability, items, kills, concurrency: 4, seed, ...(batchSize ? { batchSize } : {}) });
          } finally {
            rmSync(directory, { recursive: true, force: true });
          }
        },
      });
    }
  }
  return scenarios;
}

async function killTorture(queue: KillScenario[]): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const at = Date.now();
      const result = await next.run();
      violations += result.violations.length + (result.kills < kills ? 1 : 0);
      const where = Object.entries(result.killsAt).sort().map(([point, count]) => `${point} ${count}`).join(', ');
      console.log(`kill  ${next.label.padEnd(4)} ${next.durability.padEnd(7)} kills ${result.kills} (${where}), runs ${result.runs}, ` +
        `${next.batchSize || result.maxLostPerKill > 0 ? `max lost per kill ${result.maxLostPerKill}${next.batchSize ? ` (batch ${next.batchSize})` : ''}, ` : ''}violations ${result.violations.length}, ${Math.round((Date.now() - at) / 1000)} s`);
      for (const violation of result.violations) console.log(`      ${violation}`);
    }
  };
  await Promise.all(Array.from({ length: Number(values.parallel) }, worker));
}

async function fuzz(): Promise<void> {
  const { runModelFuzz } = await import('../fuzz/model-property.js');
  const { runCorruptionFuzz } = await import('../fuzz/corruption-property.js');
  for (const store of ['memory', 'json', 'yaml'] as const) {
    const result = await runModelFuzz(store, fuzzRuns);
    violations += result.failures;
    console.log(`fuzz  model-based ${store.padEnd(6)} cases ${result.cases}, commands ${result.commands}, failures ${result.failures}`);
    if (result.report) console.log(result.report);
  }
  for (const format of ['json', 'yaml'] as const) {
    const result = await runCorruptionFuzz(format, fuzzRuns);
    violations += result.failures;
    console.log(`fuzz  corruption  ${format.padEnd(6)} cases ${result.cases} (recovered ${result.recovered}, typed error ${result.typedErrors}, unchanged ${result.unchanged}, altered undetectably ${result.altered}), failures ${result.failures}`);
    if (result.report) console.log(result.report);
  }
}

if (suites.has('kill')) await killTorture(fileScenarios());
if (suites.has('pg')) {
  const postgres = await postgresTortureScenarios({ items: pgItems, kills });
  try {
    await killTorture(postgres.scenarios);
  } finally {
    await postgres.stop();
  }
}
if (suites.has('object')) {
  const objects = await objectTortureScenarios({ items: Number(values['object-items']), kills });
  try {
    await killTorture(objects.scenarios);
  } finally {
    await objects.stop();
  }
}
if (suites.has('fuzz')) await fuzz();
console.log(`torture: ${violations} violations, ${Math.round((Date.now() - started) / 1000)} s (${[...suites].join(', ')}; kills ${kills} per mode and store` +
  `${suites.has('kill') ? `, ${items} items per file store run` : ''}${suites.has('pg') ? `, ${pgItems} items per PostgresStore run` : ''}` +
  `${suites.has('object') ? `, ${values['object-items']} items per object-storage run` : ''}${suites.has('fuzz') ? `, ${fuzzRuns} cases per fuzz property` : ''})`);
process.exitCode = violations === 0 ? 0 : 1;
