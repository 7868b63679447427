import { describe, expect, it } from 'vitest';
import type {
  CheckpointError} from '../../src/index.js';
import {
  CheckpointAbortError,
  CheckpointArgumentError,
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointLockedError,
  CheckpointLockLostError,
  CheckpointMismatchError,
  CheckpointStoreError,
  CheckpointVerifyError,
  CheckpointVersionError,
  PipelineStepError,
} from '../../src/index.js';
import { LeaseLostError } from '../../src/stores/postgres/errors.js';

const where = 'runs/x/checkpoint.json';

describe('the error classes', () => {
  const placed: [string, CheckpointError][] = [
    ['CheckpointCorruptError', new CheckpointCorruptError(where, [{ path: 'steps.a', message: 'expected object' }])],
    ['CheckpointVersionError', new CheckpointVersionError(where, 9, 1)],
    ['CheckpointLockedError', new CheckpointLockedError(where, { pid: 42, host: 'h' })],
    ['CheckpointLockLostError', new CheckpointLockLostError(where)],
    ['CheckpointMismatchError', new CheckpointMismatchError('pipeline', `${where} belongs to pipeline "a"`, 'b', 'a', { location: where })],
    ['CheckpointClosedError', new CheckpointClosedError(where)],
    ['CheckpointStoreError', new CheckpointStoreError(where, 'disk full')],
    ['CheckpointVerifyError', new CheckpointVerifyError(where, 's', 'k', new Error('stat failed'))],
    ['LeaseLostError', new LeaseLostError(where, 's', 'k')],
  ];

  it.each(placed)('%s names where it happened as `location`, and in its message', (name, error) => {
    expect(error.name).toBe(name);
    expect(error.location).toBe(where);
    expect(error.message).toContain(where);
    expect(error).not.toHaveProperty('file');
  });

  it('give no location where there is none', () => {
    expect(new CheckpointArgumentError('Expected `x`').location).toBeUndefined();
    expect(new CheckpointAbortError('aborted').location).toBeUndefined();
    expect(new CheckpointMismatchError('steps', 'other steps', [], []).location).toBeUndefined();
  });

  it('have plain messages, with no prefix for a program that prints them to add again', () => {
    for (const [, error] of placed) expect(error.message).not.toMatch(/^\[/);
    expect(new CheckpointArgumentError('Expected `x` to be a string').message).toBe('Expected `x` to be a string');
  });

  it('keep the cause, and a step failure quotes its cause once', () => {
    const cause = new CheckpointStoreError(where, 'disk full');
    const failure = new PipelineStepError('enrich', cause);
    expect(failure.cause).toBe(cause);
    expect(failure.message).toBe(`step "enrich" failed: ${where}: disk full — run again to resume here`);
    expect(new CheckpointStoreError(where, 'x')).not.toHaveProperty('cause');
  });
});
