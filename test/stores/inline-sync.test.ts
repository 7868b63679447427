import { describe, expect, it } from 'vitest';
import { InlineSyncBudget } from '../../src/stores/file/journal.js';

describe("'full' lone records synced on the event loop", () => {
  it('syncs inline while the disk is fast; after a slow sync the next 64 go to the thread pool, then it tries again', () => {
    const budget = new InlineSyncBudget();
    expect(budget.allowed()).toBe(true);
    budget.took(0.2);
    expect(budget.allowed()).toBe(true);
    budget.took(25);
    const decisions = Array.from({ length: 64 }, () => budget.allowed());
    expect(decisions.every((inline) => !inline)).toBe(true);
    expect(budget.allowed()).toBe(true);
  });
});
