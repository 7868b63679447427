import { readStart, type ObjectBucket } from '../stores/object/bucket.js';
import type { TestRunner } from './harness.js';

export interface BucketConformanceOptions {
  /** Names the bucket in the test titles. */
  name: string;
  /** Called once per test: an empty bucket (or an empty prefix of one, with the keys below it). */
  createBucket(): ObjectBucket | Promise<ObjectBucket>;
  /** Timeout of each test in milliseconds, for slow servers. */
  timeout?: number;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined): string | undefined => (body ? new TextDecoder().decode(body) : undefined);

/**
 * The contract every {@link ObjectBucket} adapter must keep, the object store's whole footing:
 * writes are conditional and exactly one of two racing writers wins; a lost condition answers
 * `undefined`, never an error and never an overwrite; listings come in key order.
 */
export function describeBucketConformance(runner: TestRunner, options: BucketConformanceOptions): void {
  const { describe, expect } = runner;
  const it = (name: string, body: (bucket: ObjectBucket) => Promise<void>): void =>
    runner.it(name, async () => body(await options.createBucket()), options.timeout);

  describe(`${options.name} bucket contract`, () => {
    it('names itself by a URL', async (bucket) => {
      expect(bucket.location).toMatch(/^[a-z][a-z0-9]*:\/\/./);
    });

    it('reads nothing from a key that does not exist', async (bucket) => {
      expect(await bucket.get('runs/none.json')).toBe(undefined);
    });

    it('creates a key only if it does not exist, and keeps the first body', async (bucket) => {
      const version = await bucket.create('runs/a.json', bytes('first'));
      expect(typeof version).toBe('string');
      expect(await bucket.create('runs/a.json', bytes('second'))).toBe(undefined);
      const read = await bucket.get('runs/a.json');
      expect(text(read?.body)).toBe('first');
      expect(read?.version).toBe(version);
    });

    it('replaces a key only at its current version', async (bucket) => {
      const first = (await bucket.create('runs/a.json', bytes('first')))!;
      const second = await bucket.replace('runs/a.json', bytes('second'), first);
      expect(typeof second).toBe('string');
      expect(second).not.toBe(first);
      // The version it replaced is gone: a writer still holding it loses.
      expect(await bucket.replace('runs/a.json', bytes('stale'), first)).toBe(undefined);
      const read = await bucket.get('runs/a.json');
      expect(text(read?.body)).toBe('second');
      expect(read?.version).toBe(second);
    });

    it('does not replace a key that does not exist', async (bucket) => {
      const version = (await bucket.create('runs/a.json', bytes('first')))!;
      expect(await bucket.replace('runs/b.json', bytes('x'), version)).toBe(undefined);
      expect(await bucket.get('runs/b.json')).toBe(undefined);
    });

    it('lets exactly one of racing creators win', async (bucket) => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, n) => bucket.create('runs/race', bytes(`writer ${n}`))));
      const winners = results.flatMap((version, n) => (version === undefined ? [] : [n]));
      expect(winners.length).toBe(1);
      expect(text((await bucket.get('runs/race'))?.body)).toBe(`writer ${winners[0]}`);
    });

    it('lets exactly one of racing replacers at one version win', async (bucket) => {
      const version = (await bucket.create('runs/race', bytes('start')))!;
      const results = await Promise.all(Array.from({ length: 8 }, (_, n) => bucket.replace('runs/race', bytes(`writer ${n}`), version)));
      const winners = results.flatMap((next, n) => (next === undefined ? [] : [n]));
      expect(winners.length).toBe(1);
      expect(text((await bucket.get('runs/race'))?.body)).toBe(`writer ${winners[0]}`);
    });

    it('keeps every byte of a binary or empty body', async (bucket) => {
      const all = Uint8Array.from({ length: 256 }, (_, n) => n);
      await bucket.create('runs/binary', all);
      await bucket.create('runs/empty', new Uint8Array(0));
      expect(Array.from((await bucket.get('runs/binary'))!.body)).toEqual(Array.from(all));
      expect((await bucket.get('runs/empty'))!.body.byteLength).toBe(0);
    });

    it('reads the first bytes of a key in one ranged read (getStart), or all of a shorter one', async (bucket) => {
      const all = Uint8Array.from({ length: 100_000 }, (_, n) => n % 251);
      await bucket.create('runs/big', all);
      await bucket.create('runs/short', bytes('short'));
      await bucket.create('runs/empty', new Uint8Array(0));
      expect(Array.from((await readStart(bucket, 'runs/big', 1000))!)).toEqual(Array.from(all.subarray(0, 1000)));
      expect(Array.from((await readStart(bucket, 'runs/big', 1))!)).toEqual([0]);
      expect(text(await readStart(bucket, 'runs/short', 1000))).toBe('short');
      expect((await readStart(bucket, 'runs/empty', 1000))!.byteLength).toBe(0);
      expect(await readStart(bucket, 'runs/none', 1000)).toBe(undefined);
    });

    it('deletes a key, only at its version when one is given, and forgives a missing one', async (bucket) => {
      const first = (await bucket.create('runs/a.json', bytes('first')))!;
      const second = (await bucket.replace('runs/a.json', bytes('second'), first))!;
      await bucket.delete('runs/a.json', first);
      expect(text((await bucket.get('runs/a.json'))?.body)).toBe('second');
      await bucket.delete('runs/a.json', second);
      expect(await bucket.get('runs/a.json')).toBe(undefined);
      await bucket.delete('runs/a.json');
      await bucket.delete('runs/a.json', second);
      await bucket.create('runs/b.json', bytes('b'));
      await bucket.delete('runs/b.json');
      expect(await bucket.get('runs/b.json')).toBe(undefined);
      // Gone means gone: it can be created anew.
      expect(typeof (await bucket.create('runs/b.json', bytes('again')))).toBe('string');
    });

    it('deletes many keys at once when it can (deleteMany), forgiving missing ones and sparing the rest', async (bucket) => {
      if (!bucket.deleteMany) return;
      const keys = Array.from({ length: 300 }, (_, n) => `runs/gone/${String(n).padStart(4, '0')}`);
      for (let start = 0; start < keys.length; start += 50) {
        await Promise.all(keys.slice(start, start + 50).map((key) => bucket.create(key, bytes('x'))));
      }
      await bucket.create('runs/kept.json', bytes('kept'));
      await bucket.deleteMany([...keys.slice(0, 256), 'runs/never-there.json']);
      await bucket.deleteMany(keys.slice(256));
      expect(await bucket.list('runs/gone/')).toEqual([]);
      expect(text((await bucket.get('runs/kept.json'))?.body)).toBe('kept');
      await bucket.deleteMany([]);
    });

    it('lists the keys under a prefix in key order, with sizes and versions', async (bucket) => {
      const keys = ['runs/c.json.segments/00000002', 'runs/c.json', 'runs/c.json.segments/00000010', 'runs/c.json.segments/00000001', 'runs/d.json'];
      const versions = new Map<string, string>();
      for (const key of keys) versions.set(key, (await bucket.create(key, bytes(key)))!);
      const listed = await bucket.list('runs/c.json.segments/');
      expect(listed.map((entry) => entry.key)).toEqual(['runs/c.json.segments/00000001', 'runs/c.json.segments/00000002', 'runs/c.json.segments/00000010']);
      expect(listed.map((entry) => entry.size)).toEqual(listed.map((entry) => bytes(entry.key).byteLength));
      expect(listed.map((entry) => entry.version)).toEqual(listed.map((entry) => versions.get(entry.key)));
      expect((await bucket.list('runs/c')).map((entry) => entry.key)).toEqual([...keys].filter((key) => key.startsWith('runs/c')).sort());
      expect(await bucket.list('runs/none/')).toEqual([]);
    });

    it('lists more keys than one page of a listing holds', async (bucket) => {
      const keys = Array.from({ length: 1100 }, (_, n) => `runs/many/${String(n).padStart(5, '0')}`);
      for (let start = 0; start < keys.length; start += 50) {
        await Promise.all(keys.slice(start, start + 50).map((key) => bucket.create(key, bytes('x'))));
      }
      expect((await bucket.list('runs/many/')).map((entry) => entry.key)).toEqual(keys);
    });
  });
}
