import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBar, formatDuration, formatProgressLine, formatRate, type ProgressSnapshot } from '../../src/progress/format-progress.js';
import { createProgressRenderer, shouldShowProgress, type ProgressStream } from '../../src/progress/progress-renderer.js';

/** A stream that says it is a terminal and keeps what was written. */
function fakeTerminal(isTTY = true, columns = 120): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  stream.isTTY = isTTY;
  stream.columns = columns;
  stream.text = () => chunks.join('');
  return stream;
}

/** The text without escape codes: cursor moves, line clears, cursor save and restore. */
const plain = (text: string): string => text.replace(/\u001b(\[[0-9;?]*[A-Za-z]|[78])/g, '');

const snapshot = (fields: Partial<ProgressSnapshot>): ProgressSnapshot => ({ step: 'enrich', done: 0, total: 100, failed: 0, skipped: 0, rate: 0, etaMs: undefined, ...fields });

describe('progress line', () => {
  it('formats durations from seconds to hours', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(41_600)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m 05s');
    expect(formatDuration(7_620_000)).toBe('2h 07m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('formats rates with a decimal only while they are small', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(2.345)).toBe('2.3/s');
    expect(formatRate(41.6)).toBe('42/s');
  });

  it('fills the bar in proportion and clamps it', () => {
    expect(formatBar(0.5, 10)).toBe('█████░░░░░');
    expect(formatBar(2, 4)).toBe('████');
    expect(formatBar(-1, 4)).toBe('░░░░');
  });

  it('shows done/total, percent, rate, ETA, skipped and failed items', () => {
    const line = formatProgressLine(snapshot({ done: 250, total: 500, rate: 41.2, etaMs: 6_000, skipped: 120, failed: 2 }), { barWidth: 10 });
    expect(line).toBe('enrich █████░░░░░ 250/500  50% | 41/s | ETA 6s | 120 already done | 2 failed');
  });

  it('leaves out what is zero or unknown', () => {
    expect(formatProgressLine(snapshot({ done: 100, total: 100, rate: 5 }), { barWidth: 4 })).toBe('enrich ████ 100/100 100% | 5.0/s');
    expect(formatProgressLine(snapshot({ done: 7, total: undefined, rate: 3 }))).toBe('enrich 7 done | 3.0/s');
    expect(formatProgressLine(snapshot({ done: 1, total: 10, etaMs: undefined }), { barWidth: 2 })).toContain('ETA ?');
  });

  it('cuts the line to the width it is given', () => {
    const line = formatProgressLine(snapshot({ done: 1, total: 10, failed: 3, skipped: 4 }), { maxWidth: 20 });
    expect(line).toHaveLength(20);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('when to draw', () => {
  it('draws on a terminal, not on a pipe, not in CI, not on a dumb terminal', () => {
    expect(shouldShowProgress(fakeTerminal(true), {})).toBe(true);
    expect(shouldShowProgress(fakeTerminal(false), {})).toBe(false);
    expect(shouldShowProgress(fakeTerminal(true), { CI: 'true' })).toBe(false);
    expect(shouldShowProgress(fakeTerminal(true), { CI: '1' })).toBe(false);
    expect(shouldShowProgress(fakeTerminal(true), { CI: 'false' })).toBe(true);
    expect(shouldShowProgress(fakeTerminal(true), { TERM: 'dumb' })).toBe(false);
  });

  it('writes nothing at all when off', () => {
    for (const [stream, env] of [
      [fakeTerminal(false), {}],
      [fakeTerminal(true), { CI: 'true' }],
    ] as const) {
      const renderer = createProgressRenderer({ stream, env });
      expect(renderer.enabled).toBe(false);
      renderer.onProgress(snapshot({ done: 5 }));
      renderer.stop();
      expect(stream.text()).toBe('');
    }
  });

  it('follows `enabled` over the detection', () => {
    const pipe = fakeTerminal(false);
    expect(createProgressRenderer({ stream: pipe, enabled: true }).enabled).toBe(true);
    expect(createProgressRenderer({ stream: fakeTerminal(true), env: {}, enabled: false }).enabled).toBe(false);
  });
});

describe('drawing', () => {
  it('redraws one line in place and ends it with a newline on stop', () => {
    const terminal = fakeTerminal();
    const renderer = createProgressRenderer({ stream: terminal, env: {}, barWidth: 10 });
    expect(renderer.enabled).toBe(true);
    const { onProgress, stop } = renderer; // bound: usable on their own
    onProgress(snapshot({ done: 0, total: 4 }));
    onProgress(snapshot({ done: 4, total: 4, rate: 2, failed: 1 }));
    stop();
    const text = terminal.text();
    const lines = plain(text).split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('enrich ██████████ 4/4 100% | 2.0/s | 1 failed');
    // Redrawn in place: the cursor goes back to the start of the line.
    expect(text).toContain('\u001b[1G');
    // No escape codes that would outlive a killed process (hidden cursor, no line wrapping).
    expect(text).not.toContain('\u001b[?25l');
    expect(text).not.toContain('\u001b[?7l');
    // No cursor save/restore: stopping must not jump back up over lines printed meanwhile.
    expect(text).not.toContain('\u001b7');
    expect(text).not.toContain('\u001b8');
  });

  it('starts a new bar for each step and keeps the finished one on screen', () => {
    const terminal = fakeTerminal();
    const renderer = createProgressRenderer({ stream: terminal, env: {} });
    renderer.onProgress(snapshot({ step: 'download', done: 3, total: 3 }));
    renderer.onProgress(snapshot({ step: 'extract', done: 1, total: 2 }));
    renderer.stop();
    renderer.stop(); // twice is harmless
    const lines = plain(terminal.text()).split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^download .* 3\/3 100%/);
    expect(lines[1]).toMatch(/^extract .* 1\/2 {2}50%/);
  });

  it('cuts lines to the terminal width', () => {
    const terminal = fakeTerminal(true, 40);
    const renderer = createProgressRenderer({ stream: terminal, env: {} });
    renderer.onProgress(snapshot({ done: 10, total: 1000, rate: 12, etaMs: 80_000, skipped: 5, failed: 2 }));
    renderer.stop();
    for (const line of plain(terminal.text()).split('\n')) expect(line.length).toBeLessThan(40);
  });
});
