/**
 * Scenario 6 runs here, in a fresh process per measurement, so that the heap holds nothing but
 * what is measured. Usage: open-child.ts <mode: open|heap-ours|heap-set> <checkpoint.json> <items> <repetitions>
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { keyOf, median } from './lib/measure.js';
import { openCheckpoint } from './scenarios/ours.js';
import { STEP } from './scenarios/raw-append.js';

const [mode, file, itemsText, repetitionsText] = process.argv.slice(2);
const items = Number(itemsText);
const repetitions = Number(repetitionsText);
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with --expose-gc');

function parseKeys(): string[] {
  const document = JSON.parse(readFileSync(file!, 'utf8')) as { steps: Record<string, { completedItems: string[] }> };
  return document.steps[STEP]!.completedItems;
}

/** The JS heap plus ArrayBuffer memory (typed arrays keep their bytes outside the heap). */
function heapUsed(): number {
  collect!();
  collect!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Lookups of fresh key strings in shuffled order (as a pipeline derives keys from its items). */
function probes(): string[] {
  const order = Array.from({ length: items }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.map((i) => keyOf(i));
}

function nanosecondsPerLookup(lookup: (key: string) => boolean, keys: readonly string[]): number {
  let found = 0;
  const start = performance.now();
  for (const key of keys) if (lookup(key)) found++;
  const elapsed = performance.now() - start;
  if (found !== keys.length) throw new Error(`expected ${keys.length} completed items, found ${found}`);
  return (elapsed * 1e6) / keys.length;
}

async function measureOpen(): Promise<object> {
  const open: number[] = [];
  const parse: number[] = [];
  const parseAndSet: number[] = [];
  // Each measurement starts from a collected heap, so that none pays for the garbage the one
  // before it left (a million parsed strings, or a Set of them).
  for (let rep = 0; rep < repetitions; rep++) {
    collect!();
    let start = performance.now();
    const parsed = JSON.parse(readFileSync(file!, 'utf8')) as unknown;
    parse.push(performance.now() - start);
    if (!parsed) throw new Error('empty snapshot');
    collect!();
    start = performance.now();
    const set = new Set(parseKeys());
    parseAndSet.push(performance.now() - start);
    if (set.size !== items) throw new Error(`expected ${items} keys, got ${set.size}`);
    collect!();
    start = performance.now();
    const checkpoint = await openCheckpoint(dirname(file!), 'normal');
    open.push(performance.now() - start);
    await checkpoint.close();
  }
  const checkpoint = await openCheckpoint(dirname(file!), 'normal');
  const set = new Set(parseKeys());
  const keys = probes();
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let rep = 0; rep < repetitions + 1; rep++) {
    // The first round warms both up (and caches the probe strings' hashes); it is not counted.
    const a = nanosecondsPerLookup((key) => checkpoint.isItemCompleted(STEP, key), keys);
    const b = nanosecondsPerLookup((key) => set.has(key), keys);
    if (rep > 0) {
      ours.push(a);
      baseline.push(b);
    }
  }
  await checkpoint.close();
  return { openMs: median(open), openSamples: open, parseMs: median(parse), parseSamples: parse, parseAndSetMs: median(parseAndSet), lookupNs: median(ours), lookupSamples: ours, setHasNs: median(baseline) };
}

async function measureHeap(what: 'ours' | 'set'): Promise<object> {
  const before = heapUsed();
  let held: unknown;
  if (what === 'ours') held = await openCheckpoint(dirname(file!), 'normal');
  else held = new Set(parseKeys());
  const after = heapUsed();
  if (!held) throw new Error('nothing opened');
  return { bytesPerItem: (after - before) / items };
}

const result = mode === 'open' ? await measureOpen() : await measureHeap(mode === 'heap-ours' ? 'ours' : 'set');
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
