import { describeEventsAndCompletion } from './events.js';
import { createSuite, type StoreConformanceOptions, type TestRunner } from './harness.js';
import { describeItems } from './items.js';
import { describePolicies } from './policies.js';
import { describeResets } from './resets.js';
import { describeStagesAndContext } from './stages-context.js';
import { describeVolumeAndKeys } from './volume-keys.js';

/**
 * Declares the store conformance suite: every behaviour a CheckpointStore must support, driven
 * through `CheckpointManager.open({ store })`. Each test gets a new, empty checkpoint from
 * `createStore()`; the factory's stores must all read and write that one checkpoint, so that
 * closing a manager and opening a new store simulates a resumed run.
 *
 * @example
 * import { describe, it, expect } from 'vitest';
 * import { describeStoreConformance } from 'checkpoint-resume/testing';
 *
 * describeStoreConformance({ describe, it, expect }, {
 *   name: 'RedisStore',
 *   createStore: () => {
 *     const key = `test:${crypto.randomUUID()}`;
 *     return { create: () => new RedisStore({ key }), cleanup: () => redis.del(key) };
 *   },
 * });
 */
export function describeStoreConformance(runner: TestRunner, options: StoreConformanceOptions): void {
  runner.describe(`${options.name} conformance`, () => {
    const suite = createSuite(runner, options);
    describeItems(suite);
    describeStagesAndContext(suite);
    describeResets(suite);
    describePolicies(suite);
    describeEventsAndCompletion(suite);
    describeVolumeAndKeys(suite);
  });
}
