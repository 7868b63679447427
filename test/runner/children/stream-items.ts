// Streams many items, each carrying a payload of `bytes`, through forEach and reports heap use.
// Run with --expose-gc. argv: checkpoint path, number of items, payload bytes.
import { CheckpointManager } from '../../../src/index.js';

const [path, countText, bytesText] = process.argv.slice(2);
const count = Number(countText);
const bytes = Number(bytesText ?? 1024);
const gc = (globalThis as { gc?: () => void }).gc;
if (!path || !gc) throw new Error('usage: node --expose-gc --import tsx stream-items.ts <checkpoint> <count> [bytes]');

const cp = await CheckpointManager.open({ path, durability: 'batched', batchSize: 10_000, minCompactBytes: 256 << 20, itemKey: (doc: { id: string }) => doc.id });
gc();
const heapBefore = process.memoryUsage().heapUsed;

async function* documents() {
  // A new string per item: holding the input would cost count × bytes.
  for (let i = 0; i < count; i++) yield { id: i.toString(36), body: `${i}`.padEnd(bytes, '.') };
}

let peak = 0;
const started = Date.now();
const report = await cp.step('ingest').forEach(documents(), (doc) => void doc.body.length, {
  concurrency: 16,
  progressIntervalMs: 250,
  onProgress: () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
  },
});
const ms = Date.now() - started;
gc();
const heapAfter = process.memoryUsage().heapUsed;
await cp.close();
process.stdout.write(`${JSON.stringify({ report: { ...report, failures: report.failures.length }, ms, growth: heapAfter - heapBefore, peak })}\n`);
