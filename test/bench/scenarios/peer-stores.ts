/**
 * The embedded stores people pick instead of a checkpoint library, each driven the way its docs
 * suggest for the durability it is compared at. Every function marks `count` items completed
 * (key → the same small record the journal holds) and returns the milliseconds it took, opening
 * and closing not timed. The modules are loaded lazily and typed here by the few members used, so
 * that the library's type check never needs the bench's own packages installed.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { keyOf } from '../lib/measure.js';
import { loadSqlite } from './sqlite.js';
import { STEP } from './raw-append.js';

const requireHere = createRequire(import.meta.url);
const value = (): string => JSON.stringify({ status: 'completed', attempts: 1, at: Date.now() });

interface LmdbDatabase {
  put(key: string, value: string): Promise<boolean>;
  putSync(key: string, value: string): boolean;
  transactionSync<T>(action: () => T): T;
  get(key: string): unknown;
  close(): Promise<void>;
}
type LmdbOpen = (options: { path: string; noSync?: boolean; overlappingSync?: boolean; encoding?: string }) => LmdbDatabase;

/**
 * lmdb durability: `noSync: true` commits write their pages to the operating system without an
 * fsync (survives kill -9, like `normal` and `batched`); without it, and with `overlappingSync:
 * false`, every commit is fsynced before `putSync` returns or `put` resolves (like `full`).
 */
export type LmdbSync = 'noSync' | 'sync';
export type LmdbWay = 'putSync' | 'put' | 'transactionSync';

function openLmdb(directory: string, sync: LmdbSync): LmdbDatabase {
  const { open } = requireHere('lmdb') as { open: LmdbOpen };
  return open({ path: join(directory, 'lmdb'), encoding: 'string', ...(sync === 'noSync' ? { noSync: true } : { overlappingSync: false }) });
}

/**
 * `putSync`: one transaction per mark. `put`: awaited, with `inFlight` marks outstanding at once
 * (lmdb commits the puts that are waiting together, its group commit). `transactionSync`: one
 * transaction per `group` marks.
 */
export async function lmdbMarks(directory: string, count: number, way: LmdbWay, sync: LmdbSync, group = 1): Promise<number> {
  const db = openLmdb(directory, sync);
  const start = performance.now();
  if (way === 'putSync') {
    for (let i = 0; i < count; i++) db.putSync(`${STEP}/${keyOf(i)}`, value());
  } else if (way === 'transactionSync') {
    for (let i = 0; i < count; i += group) {
      db.transactionSync(() => {
        for (let j = i; j < Math.min(count, i + group); j++) db.putSync(`${STEP}/${keyOf(j)}`, value());
      });
    }
  } else {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) await db.put(`${STEP}/${keyOf(i)}`, value());
    };
    await Promise.all(Array.from({ length: group }, lane));
  }
  const elapsed = performance.now() - start;
  if (db.get(`${STEP}/${keyOf(count - 1)}`) === undefined) throw new Error('lmdb lost the last mark');
  await db.close();
  return elapsed;
}

interface LevelDatabase {
  open(): Promise<void>;
  put(key: string, value: string, options: { sync: boolean }): Promise<void>;
  batch(operations: { type: 'put'; key: string; value: string }[], options: { sync: boolean }): Promise<void>;
  get(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}
type LevelConstructor = new (location: string) => LevelDatabase;

/**
 * classic-level (LevelDB): `sync: false` writes each write's log record to the operating system
 * (survives kill -9, like `normal`/`batched`); `sync: true` fsyncs the log before the write
 * resolves (like `full`). One `put` per mark, or one `batch` per `group` marks.
 */
export async function levelMarks(directory: string, count: number, sync: boolean, group = 1): Promise<number> {
  const { ClassicLevel } = requireHere('classic-level') as { ClassicLevel: LevelConstructor };
  const db = new ClassicLevel(join(directory, 'level'));
  await db.open();
  const start = performance.now();
  if (group === 1) {
    for (let i = 0; i < count; i++) await db.put(`${STEP}/${keyOf(i)}`, value(), { sync });
  } else {
    for (let i = 0; i < count; i += group) {
      const operations = [];
      for (let j = i; j < Math.min(count, i + group); j++) operations.push({ type: 'put' as const, key: `${STEP}/${keyOf(j)}`, value: value() });
      await db.batch(operations, { sync });
    }
  }
  const elapsed = performance.now() - start;
  if ((await db.get(`${STEP}/${keyOf(count - 1)}`)) === undefined) throw new Error('classic-level lost the last mark');
  await db.close();
  return elapsed;
}

/**
 * better-sqlite3 in WAL mode, one upsert per mark, `group` marks per transaction (a batch, or the
 * marks a group commit would share). `NORMAL` survives kill -9, `FULL` power loss.
 */
export function sqliteGroupMarks(directory: string, count: number, synchronous: 'NORMAL' | 'FULL', group: number): number {
  const Database = loadSqlite();
  const db = new Database(join(directory, 'checkpoint.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE items (step TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (step, key))');
  const mark = db.prepare(
    'INSERT INTO items (step, key, status, attempts, updated_at) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT (step, key) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, updated_at = excluded.updated_at',
  );
  const markGroup = db.transaction((from: number, to: number) => {
    for (let j = from; j < to; j++) mark.run(STEP, keyOf(j), 'completed', 1, Date.now());
  });
  const start = performance.now();
  for (let i = 0; i < count; i += group) markGroup(i, Math.min(count, i + group));
  const elapsed = performance.now() - start;
  db.close();
  return elapsed;
}
