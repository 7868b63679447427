import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptsAfter, attemptsOf, forEachDetailedItem, isPendingStatus, statusAfterFailure } from '../../src/core/item-rules.js';
import type { CheckpointDocument, ItemChange, ItemStatus, StepDocument } from '../../src/core/model.js';
import { CheckpointState } from '../../src/core/state.js';

const metadata = { runId: 'r', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
const MAX_ATTEMPTS = 3;

/** Applies a mark to the state as the manager does: the rules decide, the state records. */
function mark(state: CheckpointState, key: string, kind: 'in_progress' | 'completed' | 'failed', at: number): ItemChange {
  const attempts = attemptsAfter(state.steps.get('s'), key, kind);
  const status = kind === 'failed' ? statusAfterFailure(attempts, MAX_ATTEMPTS) : kind;
  const change: ItemChange = { op: 'item', step: 's', key, status, attempts, at, ...(kind === 'failed' ? { error: { message: 'no' } } : {}) };
  state.apply(change);
  return change;
}

describe('item rules', () => {
  it('count one attempt per start; completing or failing ends the started attempt', () => {
    const state = new CheckpointState(metadata);
    expect(attemptsOf(state.steps.get('s'), 'a')).toBe(0);
    expect(mark(state, 'a', 'in_progress', 1).attempts).toBe(1);
    expect(mark(state, 'a', 'failed', 2)).toMatchObject({ attempts: 1, status: 'failed' });
    expect(mark(state, 'a', 'in_progress', 3).attempts).toBe(2);
    expect(mark(state, 'a', 'completed', 4).attempts).toBe(2);
    expect(attemptsOf(state.steps.get('s'), 'a')).toBe(2);
  });

  it('count a mark without a start as an attempt of its own', () => {
    const state = new CheckpointState(metadata);
    expect(mark(state, 'a', 'failed', 1).attempts).toBe(1);
    expect(mark(state, 'a', 'failed', 2).attempts).toBe(2);
    expect(mark(state, 'b', 'completed', 3).attempts).toBe(1);
    // A completed item without a record had one attempt: starting it again is the second.
    expect(attemptsOf(state.steps.get('s'), 'b')).toBe(1);
    expect(mark(state, 'b', 'in_progress', 4).attempts).toBe(2);
  });

  it('count re-completing a completed item as an attempt, whether or not it has a record', () => {
    const state = new CheckpointState(metadata);
    mark(state, 'bare', 'completed', 1);
    mark(state, 'with-record', 'failed', 2);
    mark(state, 'with-record', 'completed', 3);
    expect(state.steps.get('s')!.items.has('bare')).toBe(false);
    expect(state.steps.get('s')!.items.get('with-record')?.attempts).toBe(2);
    expect(mark(state, 'bare', 'completed', 4).attempts).toBe(2);
    expect(mark(state, 'with-record', 'completed', 5).attempts).toBe(3);
  });

  it('make a failure a dead letter exactly at maxAttempts, and an interrupted item too', () => {
    expect([1, 2, 3, 4].map((attempts) => statusAfterFailure(attempts, 3))).toEqual(['failed', 'failed', 'dead_letter', 'dead_letter']);
    expect(statusAfterFailure(1e9, Infinity)).toBe('failed');
    const state = new CheckpointState(metadata);
    for (let at = 1; at <= MAX_ATTEMPTS; at++) {
      mark(state, 'crashes', 'in_progress', at);
      if (at < MAX_ATTEMPTS) {
        expect(state.releaseInterrupted(MAX_ATTEMPTS)).toBe(1);
        expect(state.steps.get('s')!.status('crashes')).toBe('pending');
      }
    }
    state.releaseInterrupted(MAX_ATTEMPTS);
    expect(state.steps.get('s')!.status('crashes')).toBe('dead_letter');
  });

  it('keep attempts within 1 of the starts, whatever the order of marks', () => {
    const kinds = fc.constantFrom('in_progress' as const, 'completed' as const, 'failed' as const);
    fc.assert(
      fc.property(fc.array(kinds, { minLength: 1, maxLength: 30 }), (sequence) => {
        const state = new CheckpointState(metadata);
        let previous = 0;
        let starts = 0;
        sequence.forEach((kind, at) => {
          const { attempts } = mark(state, 'a', kind, at);
          if (kind === 'in_progress') starts++;
          // Attempts never go down, grow by at most one a mark, and only a start or a mark after
          // an end (not after a start) counts a new one.
          expect(attempts - previous).toBeGreaterThanOrEqual(0);
          expect(attempts - previous).toBeLessThanOrEqual(1);
          expect(attempts).toBeGreaterThanOrEqual(starts);
          previous = attempts;
        });
        expect(attemptsOf(state.steps.get('s'), 'a')).toBe(previous);
      }),
    );
  });

  it('hand out pending and interrupted items, failed ones unless retryFailed is false, never the rest', () => {
    const statuses: ItemStatus[] = ['pending', 'in_progress', 'completed', 'failed', 'dead_letter'];
    expect(statuses.filter((status) => isPendingStatus(status, true))).toEqual(['pending', 'in_progress', 'failed']);
    expect(statuses.filter((status) => isPendingStatus(status, false))).toEqual(['pending', 'in_progress']);
  });
});

describe('forEachDetailedItem', () => {
  const step: StepDocument = {
    completedItems: ['done'],
    failedItems: [{ key: 'twice', attempts: 1 }, { key: 'f', attempts: 2 }],
    inProgressItems: [{ key: 'p', attempts: 1 }],
    pendingItems: [{ key: 'twice', attempts: 3 }],
    deadLetterItems: [{ key: 'd', attempts: 5 }],
    completedDetails: [{ key: 'r', attempts: 1, result: 'out.json' }],
  };

  it('visits every listed item once a list, in the order that lets a later list win', () => {
    const visited: [string, ItemStatus, number][] = [];
    forEachDetailedItem(step, (detail, status) => visited.push([detail.key, status, detail.attempts]));
    expect(visited).toEqual([
      ['twice', 'failed', 1],
      ['f', 'failed', 2],
      ['p', 'in_progress', 1],
      ['twice', 'pending', 3],
      ['d', 'dead_letter', 5],
      ['r', 'completed', 1],
    ]);
    forEachDetailedItem({ completedItems: [] }, () => expect.unreachable());
  });

  it('is how the state reads a step: an item listed twice takes the later list', () => {
    const document: CheckpointDocument = { version: 1, metadata, steps: { s: step }, stages: [], context: {}, counters: {}, errors: [] };
    const loaded = CheckpointState.fromDocument(document).steps.get('s')!;
    expect(loaded.items.get('twice')).toEqual({ status: 'pending', attempts: 3 });
    expect(['done', 'f', 'p', 'd', 'r'].map((key) => loaded.status(key))).toEqual(['completed', 'failed', 'in_progress', 'dead_letter', 'completed']);
    expect(loaded.items.get('r')?.result).toBe('out.json');
  });
});
