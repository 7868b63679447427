import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointVersionError } from '../../src/core/errors.js';
import { FORMAT_VERSION, type CheckpointDocument } from '../../src/core/model.js';
import { parseChange, parseDocument } from '../../src/core/schema.js';

const valid = (): CheckpointDocument => ({
  version: FORMAT_VERSION,
  metadata: { runId: 'r', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' },
  steps: { enrich: { completedItems: ['a', 'b'], failedItems: [{ key: 'c', attempts: 1, error: { message: 'x' } }] } },
  stages: [{ name: 'download', completedAt: '2025-01-01T00:00:00.000Z', result: { n: 1 } }],
  context: { k: [1, 2] },
  counters: { cost: 1.5 },
  errors: [],
});

function corruptError(run: () => unknown): CheckpointCorruptError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    return error as CheckpointCorruptError;
  }
  throw new Error('expected a CheckpointCorruptError');
}

describe('parseDocument', () => {
  it('returns a valid document unchanged', () => {
    expect(parseDocument(valid(), 'cp.json')).toEqual(valid());
  });

  it('names the path inside the document, the file and what was expected', () => {
    const document = valid() as unknown as { steps: { enrich: { completedItems: unknown[] } } };
    document.steps.enrich.completedItems = ['a', 'b', 'c', 4];
    const error = corruptError(() => parseDocument(document, 'pipeline_checkpoint.json'));
    expect(error.code).toBe('CHECKPOINT_CORRUPT');
    expect(error.location).toBe('pipeline_checkpoint.json');
    expect(error.problems[0]?.path).toBe('steps.enrich.completedItems[3]');
    expect(error.message).toMatch(/^pipeline_checkpoint\.json: steps\.enrich\.completedItems\[3\] expected string, received number/);
    expect(error.message).toContain("onCorrupt: 'restart'");
  });

  it('quotes keys that are not identifiers in paths', () => {
    const document = valid() as unknown as { steps: Record<string, unknown> };
    document.steps['my step'] = { completedItems: 'nope' };
    expect(corruptError(() => parseDocument(document, 'f')).problems[0]?.path).toBe('steps["my step"].completedItems');
  });

  it('reports every problem, and counts the rest in the message', () => {
    const document = { ...valid(), counters: { a: 'x' }, context: [] } as unknown;
    const error = corruptError(() => parseDocument(document, 'f'));
    expect(error.problems.map((problem) => problem.path).sort()).toEqual(['context', 'counters.a']);
    expect(error.message).toContain('(and 1 more problems)');
  });

  it('refuses a top level that is not an object', () => {
    for (const raw of [null, [], 'text', 42]) {
      expect(corruptError(() => parseDocument(raw, 'f')).message).toContain('expected a JSON object at the top level');
    }
  });

  it('refuses an impossible version', () => {
    expect(corruptError(() => parseDocument({ ...valid(), version: -1 }, 'f')).problems[0]?.path).toBe('version');
    expect(corruptError(() => parseDocument({ ...valid(), version: 1.5 }, 'f')).problems[0]?.path).toBe('version');
  });

  it('gives CheckpointVersionError for a newer format', () => {
    let error: unknown;
    try {
      parseDocument({ ...valid(), version: FORMAT_VERSION + 1 }, 'cp.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CheckpointVersionError);
    expect((error as CheckpointVersionError).version).toBe(FORMAT_VERSION + 1);
    expect((error as Error).message).toContain('upgrade checkpointer');
  });

  it('refuses an object that is neither a checkpoint nor a legacy one', () => {
    const error = corruptError(() => parseDocument({ hello: 'world' }, 'f'));
    expect(error.message).toContain('not a checkpoint file');
  });

  it('keeps __proto__ and constructor keys as own keys, without touching prototypes', () => {
    const raw = JSON.parse(JSON.stringify(valid()).replace('"enrich"', '"__proto__"').replace('"k"', '"__proto__"').replace('"cost"', '"constructor"')) as unknown;
    const document = parseDocument(raw, 'f');
    expect(Object.keys(document.steps)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(document.steps)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(document.steps, '__proto__')?.value).toEqual(valid().steps['enrich']);
    expect(JSON.stringify(document.context)).toBe('{"__proto__":[1,2]}');
    expect(document.counters['constructor']).toBe(1.5);
    expect(({} as Record<string, unknown>)['completedItems']).toBe(undefined);
  });

  it('does not confuse a key that starts with NUL with an escaped one', () => {
    const raw = { ...valid(), context: JSON.parse('{"\\u0000__proto__": 1, "__proto__": 2, "\\u0000": 3}') as Record<string, number> };
    expect(JSON.stringify(parseDocument(raw, 'f').context)).toBe('{"\\u0000__proto__":1,"__proto__":2,"\\u0000":3}');
  });

  it('reports content nested too deeply as corrupt, not as a crash', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    const error = corruptError(() => parseDocument({ ...valid(), context: { deep } }, 'f'));
    expect(error.location).toBe('f');
  });
});

describe('parseChange', () => {
  it('accepts each kind of change', () => {
    const changes = [
      { op: 'item', step: 's', key: 'k', status: 'completed', attempts: 1, at: 1, result: { a: 1 } },
      { op: 'item', step: 's', key: 'k', status: 'dead_letter', attempts: 3, at: 1, error: { message: 'x', name: 'TypeError' } },
      { op: 'step', step: 's', summary: { status: 'running' } },
      { op: 'stage', stage: 'download', at: 5 },
      { op: 'context', context: { a: [1] } },
      { op: 'counter', name: 'cost', value: 2.5 },
      { op: 'resetStep', step: 's' },
      { op: 'retryFailed' },
      { op: 'retryFailed', step: 's' },
      { op: 'resetAll' },
      { op: 'metadata', metadata: { runId: 'r', createdAt: 'a', updatedAt: 'b' } },
    ];
    for (const change of changes) expect(parseChange(change, 'j line 1')).toEqual(change);
  });

  it('names the record and the field that is wrong', () => {
    const error = corruptError(() => parseChange({ op: 'item', step: 's', key: 'k', status: 'done', attempts: 1, at: 1 }, 'cp.json.journal line 12'));
    expect(error.location).toBe('cp.json.journal line 12');
    expect(error.problems[0]?.path).toBe('status');
    expect(corruptError(() => parseChange({ op: 'explode' }, 'j')).problems[0]?.path).toBe('op');
    expect(corruptError(() => parseChange({ op: 'item', step: '', key: 'k', status: 'completed', attempts: -1, at: 1 }, 'j')).problems.map((p) => p.path)).toEqual(['step', 'attempts']);
  });

  it('keeps a __proto__ context key', () => {
    const change = parseChange(JSON.parse('{"op":"context","context":{"__proto__":{"polluted":true}}}'), 'j');
    expect(JSON.stringify(change)).toBe('{"op":"context","context":{"__proto__":{"polluted":true}}}');
    expect(({} as Record<string, unknown>)['polluted']).toBe(undefined);
  });
});
