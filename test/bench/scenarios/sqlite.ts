import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rateFigure, type Scenario } from '../lib/figures.js';
import { freshDirectory, keyOf, median } from '../lib/measure.js';
import { timeMarks } from './ours.js';
import { STEP } from './raw-append.js';

/** The few members of better-sqlite3 used here (it ships no types; the bench installs it alone). */
interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(source: string): void;
  prepare(source: string): { run(...parameters: unknown[]): unknown };
  transaction<A extends unknown[]>(body: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type SqliteConstructor = new (file: string) => SqliteDatabase;

export const loadSqlite = (): SqliteConstructor => createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;

/**
 * What a user who "just used SQLite" writes: WAL, one row per item, one prepared upsert per
 * mark (each its own transaction, so each mark is committed before the next).
 */
function sqliteMarks(Database: SqliteConstructor, directory: string, count: number, synchronous: 'NORMAL' | 'FULL'): number {
  const db = new Database(join(directory, 'checkpoint.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE items (step TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (step, key))');
  const mark = db.prepare(
    'INSERT INTO items (step, key, status, attempts, updated_at) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT (step, key) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, updated_at = excluded.updated_at',
  );
  const start = performance.now();
  for (let i = 0; i < count; i++) mark.run(STEP, keyOf(i), 'completed', 1, Date.now());
  const elapsed = performance.now() - start;
  db.close();
  return elapsed;
}

/** Scenario 5: better-sqlite3 at matching durability. */
export const sqliteScenario: Scenario = {
  numbers: [5],
  title: 'better-sqlite3 (WAL) at matching durability',
  async run({ scale, work, log }) {
    const Database = loadSqlite();
    const fast = scale.fastMarks;
    const synced = scale.syncedMarks;
    const rate = (count: number, ms: number): number => (count * 1000) / ms;
    const samples = { sqliteNormal: [] as number[], normal: [] as number[], sqliteFull: [] as number[], full: [] as number[], full16: [] as number[] };
    for (let rep = 0; rep < scale.repetitions; rep++) {
      samples.sqliteNormal.push(rate(fast, sqliteMarks(Database, freshDirectory(work, 'sqlite-normal'), fast, 'NORMAL')));
      samples.normal.push(rate(fast, await timeMarks(freshDirectory(work, 'sq-normal'), 'normal', fast)));
      samples.sqliteFull.push(rate(synced, sqliteMarks(Database, freshDirectory(work, 'sqlite-full'), synced, 'FULL')));
      samples.full.push(rate(synced, await timeMarks(freshDirectory(work, 'sq-full'), 'full', synced)));
      samples.full16.push(rate(synced * 4, await timeMarks(freshDirectory(work, 'sq-full16'), 'full', synced * 4, 16)));
      log(`  rep ${rep + 1}: sqlite NORMAL ${Math.round(samples.sqliteNormal.at(-1)!)}/s vs normal ${Math.round(samples.normal.at(-1)!)}/s; sqlite FULL ${Math.round(samples.sqliteFull.at(-1)!)}/s vs full ${Math.round(samples.full.at(-1)!)}/s`);
    }
    const sqliteNormal = { label: 'better-sqlite3 WAL, synchronous=NORMAL, upsert per mark', value: median(samples.sqliteNormal) };
    const sqliteFull = { label: 'better-sqlite3 WAL, synchronous=FULL, upsert per mark', value: median(samples.sqliteFull) };
    return [
      rateFigure({ id: 'sqlite.normal', scenario: 5, label: "'normal' marks, sequential", value: median(samples.normal), unit: 'marks/s', baseline: sqliteNormal, samples: samples.normal }),
      rateFigure({ id: 'sqlite.full', scenario: 5, label: "'full' marks, sequential", value: median(samples.full), unit: 'marks/s', baseline: sqliteFull, samples: samples.full }),
      rateFigure({ id: 'sqlite.full16', scenario: 5, label: "'full' marks, 16 concurrent", value: median(samples.full16), unit: 'marks/s', baseline: sqliteFull, samples: samples.full16 }),
    ];
  },
};
