/**
 * Scenarios 6 and 12 run here, in a fresh process per measurement, so that the heap holds nothing but
 * what is measured. Usage: open-child.ts <mode: open|heap-ours|heap-set|reopen> <checkpoint.json> <items> <repetitions>
 * (`reopen`: the checkpoint.json of a directory a killed writer left, its journal not compacted)
 * Prints one JSON line.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

/** Above this many items, lookups are timed on this many probes (all keys, shuffled, take minutes at 10M). */
const MAX_PROBES = 2_000_000;

/** Lookups of fresh key strings in shuffled order (as a pipeline derives keys from its items). */
function probes(): string[] {
  const order = Array.from({ length: items }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, MAX_PROBES).map((i) => keyOf(i));
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
    if (items <= MAX_PROBES) {
      collect!();
      start = performance.now();
      const set = new Set(parseKeys());
      parseAndSet.push(performance.now() - start);
      if (set.size !== items) throw new Error(`expected ${items} keys, got ${set.size}`);
    }
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

/**
 * Opening what a killed writer left (the whole state in the journal) against `JSON.parse` of the
 * snapshot the same state compacts to. Each open works on a fresh copy, since closing compacts.
 */
async function measureReopen(): Promise<object> {
  const reopen: number[] = [];
  let compacted = '';
  for (let rep = 0; rep < repetitions; rep++) {
    const copy = mkdtempSync(join(dirname(dirname(file!)), 'reopen-'));
    // The files, not the dead writer's lock directory (a copy would name a process that is gone).
    cpSync(dirname(file!), copy, { recursive: true, filter: (source) => !basename(source).endsWith('.lock') });
    collect!();
    const start = performance.now();
    const checkpoint = await openCheckpoint(copy, 'normal');
    reopen.push(performance.now() - start);
    if (!checkpoint.isItemCompleted(STEP, keyOf(0)) || !checkpoint.isItemCompleted(STEP, keyOf(items - 1))) throw new Error('the replay lost marks');
    await checkpoint.close();
    if (rep < repetitions - 1) rmSync(copy, { recursive: true, force: true });
    else compacted = join(copy, basename(file!));
  }
  const parse: number[] = [];
  for (let rep = 0; rep < repetitions; rep++) {
    collect!();
    const start = performance.now();
    const parsed = JSON.parse(readFileSync(compacted, 'utf8')) as { steps: Record<string, { completedItems: string[] }> };
    parse.push(performance.now() - start);
    if (parsed.steps[STEP]!.completedItems.length !== items) throw new Error(`the compacted snapshot holds ${parsed.steps[STEP]!.completedItems.length} of ${items} items`);
  }
  rmSync(dirname(compacted), { recursive: true, force: true });
  return { reopenMs: median(reopen), reopenSamples: reopen, parseMs: median(parse), parseSamples: parse };
}

const result = mode === 'open' ? await measureOpen() : mode === 'reopen' ? await measureReopen() : await measureHeap(mode === 'heap-ours' ? 'ours' : 'set');
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
