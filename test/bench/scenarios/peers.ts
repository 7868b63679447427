import { rmSync } from 'node:fs';
import { costFigure, rateFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, median } from '../lib/measure.js';
import { measureMarks } from './ours.js';
import { levelMarks, lmdbMarks, sqliteGroupMarks } from './peer-stores.js';
import { rawAppend } from './raw-append.js';

/** One contender in a class: marks `count` items in a fresh directory, returns milliseconds. */
interface Contender {
  id: string;
  label: string;
  run(directory: string, count: number): Promise<number> | number;
}

/** A durability class: our mode, its floor (raw syscalls) and the peers at the same durability. */
interface DurabilityClass {
  id: 'normal' | 'batched' | 'full' | 'full16';
  label: string;
  count: (marks: { fast: number; synced: number }) => number;
  ours: Contender;
  floor: Contender;
  peers: Contender[];
}

const BATCH = 100;
const IN_FLIGHT = 16;

const CLASSES: DurabilityClass[] = [
  {
    id: 'normal',
    label: "'normal' (survives kill -9), sequential",
    count: ({ fast }) => fast,
    ours: { id: 'ours', label: "'normal'", run: async (dir, n) => (await measureMarks(dir, 'normal', n)).ms },
    floor: { id: 'floor', label: 'raw writeSync per record', run: (dir, n) => rawAppend(dir, n, { fsyncEach: false }) },
    peers: [
      { id: 'lmdbPutSync', label: 'lmdb putSync, noSync: true (a transaction per mark)', run: (dir, n) => lmdbMarks(dir, n, 'putSync', 'noSync') },
      { id: 'lmdbPut', label: 'lmdb put, awaited, noSync: true', run: (dir, n) => lmdbMarks(dir, n, 'put', 'noSync') },
      { id: 'level', label: 'classic-level put, sync: false', run: (dir, n) => levelMarks(dir, n, false) },
      { id: 'sqlite', label: 'better-sqlite3 WAL, synchronous=NORMAL, a transaction per mark', run: (dir, n) => sqliteGroupMarks(dir, n, 'NORMAL', 1) },
    ],
  },
  {
    id: 'batched',
    label: `'batched' (${BATCH} marks per write; a crash loses at most a batch), sequential`,
    count: ({ fast }) => fast,
    ours: { id: 'ours', label: "'batched'", run: async (dir, n) => (await measureMarks(dir, 'batched', n)).ms },
    floor: { id: 'floor', label: `raw writeSync of ${BATCH} records at a time`, run: (dir, n) => rawAppend(dir, n, { fsyncEach: false, recordsPerWrite: BATCH }) },
    peers: [
      { id: 'lmdbTxn', label: `lmdb transactionSync per ${BATCH} marks, noSync: true`, run: (dir, n) => lmdbMarks(dir, n, 'transactionSync', 'noSync', BATCH) },
      { id: 'level', label: `classic-level batch of ${BATCH}, sync: false`, run: (dir, n) => levelMarks(dir, n, false, BATCH) },
      { id: 'sqlite', label: `better-sqlite3 WAL, synchronous=NORMAL, a transaction per ${BATCH} marks`, run: (dir, n) => sqliteGroupMarks(dir, n, 'NORMAL', BATCH) },
    ],
  },
  {
    id: 'full',
    label: "'full' (survives power loss), sequential",
    count: ({ synced }) => synced,
    ours: { id: 'ours', label: "'full'", run: async (dir, n) => (await measureMarks(dir, 'full', n)).ms },
    floor: { id: 'floor', label: 'raw writeSync + fdatasync per record', run: (dir, n) => rawAppend(dir, n, { fsyncEach: true }) },
    peers: [
      { id: 'lmdbPutSync', label: 'lmdb putSync, synced commits (overlappingSync: false)', run: (dir, n) => lmdbMarks(dir, n, 'putSync', 'sync') },
      { id: 'level', label: 'classic-level put, sync: true', run: (dir, n) => levelMarks(dir, n, true) },
      { id: 'sqlite', label: 'better-sqlite3 WAL, synchronous=FULL, a transaction per mark', run: (dir, n) => sqliteGroupMarks(dir, n, 'FULL', 1) },
    ],
  },
  {
    id: 'full16',
    label: `'full', ${IN_FLIGHT} marks in flight (group commit)`,
    count: ({ synced }) => synced * 4,
    ours: { id: 'ours', label: `'full', ${IN_FLIGHT} concurrent`, run: async (dir, n) => (await measureMarks(dir, 'full', n, IN_FLIGHT)).ms },
    floor: { id: 'floor', label: `raw: ${IN_FLIGHT} records per write + fdatasync`, run: (dir, n) => rawAppend(dir, n, { fsyncEach: true, recordsPerWrite: IN_FLIGHT }) },
    peers: [
      { id: 'lmdbPut', label: `lmdb put, ${IN_FLIGHT} in flight, synced commits (lmdb commits waiting puts together)`, run: (dir, n) => lmdbMarks(dir, n, 'put', 'sync', IN_FLIGHT) },
      { id: 'lmdbTxn', label: `lmdb transactionSync per ${IN_FLIGHT} marks, synced commits`, run: (dir, n) => lmdbMarks(dir, n, 'transactionSync', 'sync', IN_FLIGHT) },
      { id: 'level', label: `classic-level batch of ${IN_FLIGHT}, sync: true`, run: (dir, n) => levelMarks(dir, n, true, IN_FLIGHT) },
      { id: 'sqlite', label: `better-sqlite3 WAL, synchronous=FULL, a transaction per ${IN_FLIGHT} marks`, run: (dir, n) => sqliteGroupMarks(dir, n, 'FULL', IN_FLIGHT) },
    ],
  },
];

/** Runs a contender; a peer that cannot load or run is an error naming it, never a silent gap. */
async function rate(contender: Contender, classId: string, directory: string, count: number): Promise<number> {
  try {
    return (count * 1000) / (await contender.run(directory, count));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`peer ${contender.id} of class ${classId} (${contender.label}) failed: ${reason} — is test/bench installed (npm install --prefix test/bench)?`, { cause: error });
  }
}

/**
 * Scenario 10: each durability class against its floor and the embedded stores people use
 * instead, at matching durability. In every repetition the contenders of a class run one after
 * another, ours first then in turn, so a noisy minute hits them all.
 */
export const peersScenario: Scenario = {
  numbers: [10],
  title: 'each durability class vs its floor and lmdb, classic-level, better-sqlite3 at matching durability',
  async run({ scale, work, log }) {
    const figures: Figure[] = [];
    for (const klass of CLASSES) {
      const count = klass.count({ fast: scale.peerFastMarks, synced: scale.peerSyncedMarks });
      const contenders = [klass.ours, klass.floor, ...klass.peers];
      const samples = new Map<string, number[]>(contenders.map((c) => [c.id, []]));
      for (let rep = 0; rep < scale.peerRepetitions; rep++) {
        for (const contender of contenders) {
          const directory = freshDirectory(work, `${klass.id}-${contender.id}`);
          samples.get(contender.id)!.push(await rate(contender, klass.id, directory, count));
          rmSync(directory, { recursive: true, force: true });
        }
        log(`  ${klass.id}, rep ${rep + 1}: ${contenders.map((c) => `${c.id} ${Math.round(samples.get(c.id)!.at(-1)!)}/s`).join(', ')}`);
      }
      const ours = samples.get('ours')!;
      const figure = (id: string, against: Contender): Figure =>
        rateFigure({ id, scenario: 10, label: `${klass.label}: ${klass.ours.label}`, value: median(ours), unit: 'marks/s', baseline: { label: against.label, value: median(samples.get(against.id)!) }, samples: ours, note: `${count} marks; baseline samples ${samples.get(against.id)!.map(Math.round).join(', ')}` });
      figures.push(figure(`floor.${klass.id}`, klass.floor));
      for (const peer of klass.peers) figures.push(figure(`peers.${klass.id}.${peer.id}`, peer));
      if (klass.id === 'full') {
        // "Ahead of SQLite FULL in every run": the worst repetition, not the median.
        const sqlite = samples.get('sqlite')!;
        const perRep = ours.map((value, rep) => sqlite[rep]! / value);
        figures.push(costFigure({ id: 'full.sqliteWorstRep', scenario: 10, label: "'full' sequential vs SQLite FULL, worst repetition", value: Math.max(...perRep), unit: 'x', samples: perRep, note: 'our cost ÷ SQLite FULL per repetition' }));
      }
    }
    return figures;
  },
};
