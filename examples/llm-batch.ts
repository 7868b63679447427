// A batch of 2,000 documents sent to a (fake) rate-limited LLM: 8 at a time, retries with
// backoff on 429s, cost tracked in a checkpoint counter. The first run is interrupted by a
// SIGINT after ~500 documents (as if you pressed Ctrl+C); the second run resumes and finishes.
//
//   npm run example:llm
//
// Without arguments this file is the demo driver: it runs itself twice as a child process.
// With `work <checkpoint>` it is the batch job itself, which you can also run by hand and
// interrupt with Ctrl+C.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { CheckpointManager } from '../src/index.js';

const DOCUMENTS = 2_000;
const PRICE_PER_TOKEN = 0.000_002;

class RateLimitError extends Error {
  override name = 'RateLimitError';
  readonly status = 429;
}

/** A stand-in for an LLM API: ~8 ms per call, answering 429 to a few percent of calls and whenever more than 8 are in flight. */
function fakeLlm() {
  let running = 0;
  return async (text: string, signal: AbortSignal): Promise<{ summary: string; tokens: number }> => {
    if (running >= 8 || Math.random() < 0.03) throw new RateLimitError('rate limit exceeded (429)');
    running++;
    try {
      await delay(5 + Math.random() * 6, undefined, { signal });
      return { summary: text.slice(0, 24), tokens: 200 + (text.length % 300) };
    } finally {
      running--;
    }
  };
}

async function work(checkpoint: string, interruptAfter: number | undefined): Promise<void> {
  const cp = await CheckpointManager.open({
    path: checkpoint,
    pipeline: 'llm-batch',
    config: { model: 'fake-1', prompt: 'summarise' },
    itemKey: (doc: { id: string }) => doc.id,
  });
  const llm = fakeLlm();
  const documents = Array.from({ length: DOCUMENTS }, (_, i) => ({
    id: `doc-${String(i).padStart(4, '0')}`,
    text: `Document ${i}: ${'lorem ipsum '.repeat(i % 40)}`,
  }));
  const done = cp.getProgressSummary().steps.summarise?.completed ?? 0;
  console.log(done ? `resuming: ${done} documents already summarised, $${cp.getCounter('cost').toFixed(4)} spent` : 'starting a new batch');

  let completedHere = 0;
  const report = await cp.step('summarise').forEach(
    documents,
    async (doc, { signal }) => {
      const { summary, tokens } = await llm(doc.text, signal);
      await cp.increment('cost', tokens * PRICE_PER_TOKEN);
      await cp.increment('tokens', tokens);
      if (++completedHere === interruptAfter) process.kill(process.pid, 'SIGINT');
      return { summary, tokens }; // small JSON: kept with the item in the checkpoint
    },
    {
      concurrency: 8,
      retries: 5,
      backoff: { initialMs: 10, factor: 2, maxMs: 200 },
      retryOn: (error) => error instanceof RateLimitError,
      progressIntervalMs: 500,
      onProgress: (p) => {
        const eta = p.etaMs === undefined ? '' : `, about ${(p.etaMs / 1000).toFixed(1)} s left`;
        console.log(`  ${p.done}/${p.total} done (${p.skipped} from before), ${p.failed} failed, ${p.rate.toFixed(0)}/s${eta}`);
      },
    },
  );
  console.log(`finished: ${report.completed} summarised in ${report.durationMs} ms, ${report.failed} failed, ${report.skipped} skipped`);
  console.log(`total cost $${cp.getCounter('cost').toFixed(4)} for ${cp.getCounter('tokens')} tokens`);
  const { removed } = await cp.complete(); // kept, with a warning, if documents failed
  if (!removed) console.log('checkpoint kept: run again to retry the failed documents');
}

function runDemo(): number {
  const dir = mkdtempSync(join(tmpdir(), 'llm-batch-'));
  const self = fileURLToPath(import.meta.url);
  const run = (label: string, interruptAfter?: number) => {
    console.log(`\n--- ${label}`);
    const args = ['--import', 'tsx', self, 'work', join(dir, 'checkpoint.json'), ...(interruptAfter ? [String(interruptAfter)] : [])];
    return spawnSync(process.execPath, args, { stdio: 'inherit' }).status;
  };
  try {
    const first = run('run 1: interrupted with SIGINT after ~500 documents', 500);
    console.log(`run 1 exited with ${first} (75 = interrupted, resumable)`);
    if (first !== 75) return 1;
    const second = run('run 2: the same command again resumes');
    console.log(`run 2 exited with ${second}`);
    return second ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, checkpoint, interruptAfter] = process.argv.slice(2);
if (mode === 'work' && checkpoint) await work(checkpoint, interruptAfter ? Number(interruptAfter) : undefined);
else process.exitCode = runDemo();
