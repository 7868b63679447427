/**
 * The crash-and-resume demo behind `npm run example`: a custom loop over 500 "documents" with a
 * CheckpointManager, in the shape of a hand-written pipeline step. The first run is a real child
 * process that kills itself with SIGKILL after 300 documents — no cleanup, no flush. The second
 * run opens the same checkpoint, skips what was acknowledged and finishes the rest.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointManager } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const path = join(here, '.runs', 'item-loop', 'pipeline_checkpoint.json');
const documents = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, title: `Document ${i + 1}` }));
const crashAfter = Number(process.env.CRASH_AFTER ?? 0);

async function enrich(doc: { id: number }): Promise<{ words: number }> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  if (doc.id % 97 === 0) throw new Error(`upstream API refused document ${doc.id}`);
  return { words: 100 + (doc.id % 50) };
}

async function run(): Promise<void> {
  const cp = await CheckpointManager.open({
    path,
    pipeline: 'enrich_documents',
    config: { model: 'demo-1' },
    itemKey: (doc: { id: number }) => `doc-${doc.id}`,
  });
  const label = `[run ${crashAfter ? 1 : 2}]`;
  // Saved with the checkpoint: status shows 300/500 (60.0%), the rate and an ETA.
  await cp.step('enrich').setTotal(documents.length);
  const progress = (): string => {
    const { completed, total, percent, failed } = cp.getProgressSummary().steps.enrich!;
    return `${completed}/${total} documents (${percent!.toFixed(1)}%), ${failed} failed`;
  };
  const todo = cp.pendingItems('enrich', documents);
  console.log(`${label} ${documents.length - todo.length} documents already done, ${todo.length} to go`);
  let done = 0;
  for (const doc of todo) {
    await cp.markItemInProgress('enrich', doc);
    try {
      const result = await enrich(doc);
      await cp.markItemCompleted('enrich', doc, result);
      await cp.increment('words', result.words);
    } catch (error) {
      await cp.markItemFailed('enrich', doc, error);
    }
    if (++done % 100 === 0) console.log(`${label} ${progress()}`);
    if (crashAfter && done === crashAfter) {
      console.log(`[run 1] simulating a crash: SIGKILL after ${done} documents`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
  const summary = cp.getProgressSummary();
  const step = summary.steps.enrich!;
  console.log(`[run 2] finished: ${step.completed} completed, ${step.failed} failed, ${summary.counters.words} words`);
  for (const item of cp.failedItems('enrich')) {
    console.log(`         ${item.key} failed ${item.attempts}× — ${item.error?.message}`);
  }
  await cp.close();
  console.log(`[run 2] checkpoint kept at ${path} — try: npx checkpoint-resume status ${path}`);
}

if (crashAfter) {
  await run();
} else {
  rmSync(dirname(path), { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CRASH_AFTER: '300' },
    stdio: 'inherit',
  });
  console.log(`[demo] first run ended by ${child.signal ?? `exit code ${child.status}`}; resuming…`);
  await run();
}
