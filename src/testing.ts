/**
 * `checkpoint-resume/testing`: the conformance suite every CheckpointStore must pass, for the stores
 * that ship with checkpointer and for yours.
 */
export { describeStoreConformance } from './testing/conformance.js';
export { Fixture } from './testing/harness.js';
export type { Assertion, OpenOptions, StoreConformanceOptions, StoreFactory, TestRunner } from './testing/harness.js';
export { describeBucketConformance } from './testing/bucket-conformance.js';
export type { BucketConformanceOptions } from './testing/bucket-conformance.js';
