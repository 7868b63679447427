/**
 * The root export holds what a user can call or construct, and nothing else: adding a name to it
 * is a decision, made here as well as in src/index.ts. Types are checked by the consumer test.
 */
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';

const VALUES = [
  'CheckpointAbortError',
  'CheckpointArgumentError',
  'CheckpointClosedError',
  'CheckpointCorruptError',
  'CheckpointError',
  'CheckpointLockLostError',
  'CheckpointLockedError',
  'CheckpointManager',
  'CheckpointMismatchError',
  'CheckpointStoreError',
  'CheckpointVerifyError',
  'CheckpointVersionError',
  'JsonFileStore',
  'MemoryStore',
  'Pipeline',
  'PipelineStepError',
  'YamlFileStore',
  'confirmResume',
  'createProgressRenderer',
  'itemKey',
  'parseChange',
  'parseCheckpointFlags',
  'parseDocument',
];

describe('the root export', () => {
  it('holds exactly the values a user can call or construct', () => {
    expect(Object.keys(root).sort()).toEqual(VALUES);
  });

  it('leaves out the internals: the file-store engine, the runner entry point, constants', () => {
    for (const name of ['FileStore', 'runForEach', 'fingerprint', 'canonicalJson', 'shouldShowProgress', 'FORMAT_VERSION', 'MAX_ITEM_KEY_LENGTH', 'MAX_RESULT_BYTES', 'EXIT_RESUMABLE', 'StepHandle', 'PipelineStep']) {
      expect(root).not.toHaveProperty(name);
    }
  });

  it('still hands out step handles through the manager, with forEach', async () => {
    const cp = await root.CheckpointManager.open({ store: new root.MemoryStore() });
    const report = await cp.step('s').forEach([1, 2, 3], async () => {});
    expect(report.completed).toBe(3);
    expect(cp.getProgressSummary().steps['s']?.completed).toBe(3);
    await cp.close();
  });
});
