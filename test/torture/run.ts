/**
 * The long reliability run: `npm run test:torture`.
 *   --kills <n>   SIGKILLs per durability mode and format (default 200)
 *   --items <n>   items the worker goes through (default 10000)
 *   --fuzz <n>    cases per fuzz property (default 1000)
 *   --only kill|fuzz
 *   --parallel <n> kill scenarios run side by side (default 2)
 * Prints one line per scenario and a summary; exits 1 if any invariant was broken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Durability } from '../../src/index.js';
import { tortureRun, type TortureResult } from './kill-torture.js';

const { values } = parseArgs({
  options: { kills: { type: 'string', default: '200' }, items: { type: 'string', default: '10000' }, fuzz: { type: 'string', default: '1000' }, only: { type: 'string' }, parallel: { type: 'string', default: '2' } },
});
const kills = Number(values.kills);
const items = Number(values.items);
const fuzzRuns = Number(values.fuzz);
let violations = 0;
const started = Date.now();

async function killTorture(): Promise<void> {
  const scenarios: Array<{ format: 'json' | 'yaml'; durability: Durability }> = [];
  for (const format of ['json', 'yaml'] as const) for (const durability of ['full', 'normal', 'batched'] as const) scenarios.push({ format, durability });
  const queue = scenarios.map((scenario, index) => ({ ...scenario, index }));
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-torture-'));
      const at = Date.now();
      let result: TortureResult;
      try {
        result = await tortureRun({
          path: join(directory, `checkpoint.${next.format}`),
          durability: next.durability,
          items,
          kills,
          concurrency: 4,
          seed: 20_000 + next.index,
          ...(next.durability === 'batched' ? { batchSize: 50 } : {}),
        });
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
      violations += result.violations.length + (result.kills < kills ? 1 : 0);
      const where = Object.entries(result.killsAt).sort().map(([point, count]) => `${point} ${count}`).join(', ');
      console.log(`kill  ${next.format.padEnd(4)} ${next.durability.padEnd(7)} kills ${result.kills} (${where}), runs ${result.runs}, ` +
        `${next.durability === 'batched' ? `max lost per kill ${result.maxLostPerKill} (batch 50), ` : ''}violations ${result.violations.length}, ${Math.round((Date.now() - at) / 1000)} s`);
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

if (values.only !== 'fuzz') await killTorture();
if (values.only !== 'kill') await fuzz();
console.log(`torture: ${violations} violations, ${Math.round((Date.now() - started) / 1000)} s (kills ${kills} per mode and format over ${items} items, ${fuzzRuns} cases per fuzz property)`);
process.exitCode = violations === 0 ? 0 : 1;
