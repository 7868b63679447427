import { describe, expect, it } from 'vitest';
import { colourStyle, plainStyle, visibleLength } from '../../src/cli/output.js';
import type { StatusReport, StepStatusReport } from '../../src/cli/status-command.js';
import { fitToScreen, renderFrame, type FrameOptions, type WatchSnapshot } from '../../src/cli/watch-frame.js';
import { logLines, runIsOver } from '../../src/cli/watch-log.js';

const NOW = Date.parse('2026-11-25T18:10:49.120Z');

function step(counts: Partial<StepStatusReport>): StepStatusReport {
  return { status: null, total: null, completed: 0, failed: 0, inProgress: 0, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0, percent: null, ratePerSecond: null, etaMs: null, ...counts };
}

function snapshot(overrides: Partial<StatusReport> = {}, recentErrors: WatchSnapshot['recentErrors'] = []): WatchSnapshot {
  const report: StatusReport = {
    location: 'runs/x/cp.json',
    format: 'JSON',
    pipeline: 'enrich_documents',
    runId: 'cc869b5d-ee7c-4875-a719-b19a155886bb',
    createdAt: '2026-11-25T14:59:00.322Z',
    updatedAt: '2026-11-25T18:10:41.120Z',
    ageMs: 0,
    lock: { pid: 48213, host: 'build-7', since: null, alive: true },
    loadedFrom: null,
    steps: {
      enrich: step({ total: 1000, completed: 305, failed: 2, inProgress: 4, pending: 689, percent: 30.5, ratePerSecond: 12, etaMs: 58_000 }),
      summarise: step({ completed: 12, ratePerSecond: 1.24 }),
    },
    stages: [],
    counters: {},
    errors: { count: recentErrors.length, latest: recentErrors.at(-1) ?? null },
    journal: { records: 3, notYetCompacted: 3, tornLines: 0 },
    ...overrides,
  };
  return { report, recentErrors };
}

const options: FrameOptions = { now: NOW, width: 120, height: 29, intervalMs: 1000, style: plainStyle, live: true };
const failure = (key: string, message: string) => ({ at: '2026-11-25T18:10:40.000Z', message, step: 'enrich', key });

describe('watch: the frame drawn on a terminal', () => {
  it('shows the header, a bar per step with a total, counts and rate without one, and the newest errors', () => {
    const frame = renderFrame(snapshot({}, [failure('doc-96', 'timeout after 30s'), failure('doc-97', 'upstream API refused document 97')]), options);
    expect(frame[0]).toBe('Watching runs/x/cp.json (JSON) every 1s — press q to quit');
    expect(frame).toContain('Pipeline  enrich_documents');
    expect(frame).toContain('Run id    cc869b5d-ee7c-4875-a719-b19a155886bb');
    expect(frame).toContain('Lock      held by process 48213 on build-7 (a run is in progress)');
    expect(frame).toContain('Updated   8s ago');
    const enrich = frame.find((line) => line.startsWith('enrich '))!;
    // 30.5% of a 30-character bar: 9 filled.
    expect(enrich).toMatch(/^enrich {5}█{9}░{21} {2} 305\/1000 {3}30\.5% {2}12\/s {2}ETA 58s$/);
    expect(frame[frame.indexOf(enrich) + 1]!.trim()).toBe('failed 2  dead letters 0  pending 689  in progress 4');
    expect(frame).toContain('summarise  12 completed (total unknown)  1.2/s');
    expect(frame).toContain('Errors: 2 logged, the newest last');
    expect(frame.slice(-2)).toEqual(['  enrich  doc-96  timeout after 30s', '  enrich  doc-97  upstream API refused document 97']);
    expect(frame.join('\n')).not.toContain('still watching');
  });

  it('says when no run holds the lock, and when the holder died, that it keeps watching', () => {
    const free = renderFrame(snapshot({ lock: null }), options);
    expect(free).toContain('Lock      no run holds the lock: the run is over (or has not started)');
    expect(free).toContain('Showing the final state; still watching, as a new run may start.');
    const dead = renderFrame(snapshot({ lock: { pid: 7, host: 'build-7', since: null, alive: false } }), options);
    expect(dead.find((line) => line.startsWith('Lock'))).toContain('left by process 7 on build-7, which is no longer running');
    expect(dead).toContain('Showing the final state; still watching, as a new run may start.');
    // A lease past its expiry may be a holder that is only frozen: it is not called gone, only fenced off.
    const expired = renderFrame(snapshot({ location: 'az://runs/c.json', lock: { pid: 7, host: 'build-7', since: null, alive: false } }), options);
    expect(expired.find((line) => line.startsWith('Lock'))).toContain('left by process 7 on build-7, whose lease has expired (it stopped or stalled; it can no longer write)');
    // A holder on another host cannot be checked: it may be running.
    expect(renderFrame(snapshot({ lock: { pid: 7, host: 'elsewhere', since: null, alive: null } }), options)).toContain('Lock      held by process 7 on elsewhere (a run is in progress)');
  });

  it('--once has no "press q" and no "still watching"', () => {
    const frame = renderFrame(snapshot({ lock: null }), { ...options, live: false });
    expect(frame[0]).toBe('runs/x/cp.json (JSON)');
    expect(frame.join('\n')).not.toMatch(/press q|still watching/);
  });

  it('shows "done" for a finished step, "ETA ?" without a rate, and "No steps yet." / "No errors logged."', () => {
    const steps = { a: step({ total: 10, completed: 8, deadLetter: 2, percent: 80 }), b: step({ total: 0, completed: 0, percent: 100 }), c: step({ total: 5, completed: 1, percent: 20 }) };
    const frame = renderFrame(snapshot({ steps }), options);
    expect(frame.find((line) => line.startsWith('a '))).toMatch(/ 8\/10 {3}80\.0% {2}-\/s {2}done$/);
    expect(frame.find((line) => line.startsWith('b '))).toMatch(/ 0\/0 {2}100\.0% {2}-\/s {2}done$/);
    expect(frame.find((line) => line.startsWith('c '))).toMatch(/ 1\/5 {3}20\.0% {2}-\/s {2}ETA \?$/);
    expect(frame).toContain('No errors logged.');
    expect(renderFrame(snapshot({ steps: {} }), options)).toContain('No steps yet.');
  });

  it('names a damaged file and the backup shown instead', () => {
    expect(renderFrame(snapshot({ loadedFrom: 'runs/x/cp.json.bak' }), options)).toContain('Damaged: the snapshot cannot be read; showing its backup runs/x/cp.json.bak — see "checkpoint-resume validate"');
  });

  it('never draws a line wider than the terminal nor more lines than it has, colour or not', () => {
    const long = failure('k'.repeat(200), 'm'.repeat(500));
    const steps = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`step-${i}`, step({ total: 100, completed: i, percent: i })]));
    for (const style of [plainStyle, colourStyle]) {
      for (const width of [20, 60, 120]) {
        const frame = renderFrame(snapshot({ steps, location: `runs/${'deep/'.repeat(40)}cp.json` }, [long]), { ...options, width, height: 24, style });
        expect(frame).toHaveLength(24);
        for (const line of frame) expect(visibleLength(line)).toBeLessThanOrEqual(width);
        expect(frame.at(-1)).toBe('…');
      }
    }
    // A long error is shortened with an ellipsis, its item key too.
    const shown = renderFrame(snapshot({}, [long]), options).at(-1)!;
    expect(shown).toContain(`${'k'.repeat(29)}…`);
    expect(shown.endsWith('m…')).toBe(true);
  });

  it('cuts a coloured line without leaving the colour on', () => {
    const [line] = fitToScreen([colourStyle.red('x'.repeat(50))], 10, 5);
    expect(visibleLength(line!)).toBe(10);
    expect(line!.endsWith('…\u001b[0m')).toBe(true);
  });

  it('narrows the bar on a narrow terminal, and drops it when there is no room', () => {
    const bar = (width: number): number => renderFrame(snapshot(), { ...options, width }).find((line) => line.startsWith('enrich '))!.replace(/[^█░]/g, '').length;
    expect(bar(120)).toBe(30);
    expect(bar(60)).toBe(60 - 'summarise'.length - 40);
    expect(bar(40)).toBe(0);
  });
});

describe('watch: plain lines when output is not a terminal', () => {
  const at = '2026-11-25T18:10:49.120Z';

  it('starts with the run and every step, then writes only what changed', () => {
    const first = snapshot({}, [failure('doc-96', 'timeout')]);
    expect(logLines(null, first, NOW)).toEqual([
      `${at} watching runs/x/cp.json (JSON): pipeline enrich_documents, run id cc869b5d-ee7c-4875-a719-b19a155886bb; lock: held by process 48213 on build-7 (a run is in progress)`,
      `${at} enrich 305/1000   30.5%  12/s  ETA 58s  failed 2  dead letters 0  pending 689  in progress 4`,
      `${at} summarise 12 completed (total unknown)  1.2/s  failed 0  dead letters 0  pending 0  in progress 0`,
      `${at} error enrich  doc-96  timeout`,
    ]);
    // The rate moved but no count did: nothing to write.
    const drift = snapshot({ steps: { ...first.report.steps, summarise: step({ completed: 12, ratePerSecond: 0.5 }) } }, first.recentErrors);
    expect(logLines(first, drift, NOW)).toEqual([]);
    const more = snapshot({ steps: { ...first.report.steps, summarise: step({ completed: 13 }) } }, [...first.recentErrors, failure('doc-98', 'refused'), failure('doc-99', 'refused too')]);
    expect(logLines(drift, more, NOW)).toEqual([
      `${at} summarise 13 completed (total unknown)  -/s  failed 0  dead letters 0  pending 0  in progress 0`,
      `${at} error enrich  doc-98  refused`,
      `${at} error enrich  doc-99  refused too`,
    ]);
    const ended = snapshot({ ...more.report, lock: null }, more.recentErrors);
    expect(logLines(more, ended, NOW)).toEqual([`${at} lock: no run holds the lock: the run is over (or has not started)`]);
  });

  it('finds new errors by their entries, not their count: the log is capped', () => {
    const errors = [failure('a', '1'), failure('b', '2'), failure('c', '3')];
    const before = snapshot({}, errors);
    const after = snapshot({}, [...errors.slice(1), failure('d', '4')]);
    expect(logLines(before, after, NOW)).toEqual([`${at} error enrich  d  4`]);
  });

  it('the run is over when no live process holds the lock and nothing changed since the look before', () => {
    const running = snapshot();
    expect(runIsOver(running, running)).toBe(false);
    const free = snapshot({ lock: null });
    expect(runIsOver(null, free)).toBe(false);
    expect(runIsOver(running, free)).toBe(false);
    expect(runIsOver(free, free)).toBe(true);
    const moved = snapshot({ lock: null, updatedAt: '2026-11-25T18:10:48.000Z' });
    expect(runIsOver(free, moved)).toBe(false);
    const dead = snapshot({ lock: { pid: 7, host: 'h', since: null, alive: false } });
    expect(runIsOver(dead, dead)).toBe(true);
    // A database checkpoint has no lock: its watch runs until stopped.
    const shared = snapshot({ lock: null, journal: null, format: 'PostgreSQL' });
    expect(runIsOver(shared, shared)).toBe(false);
    // A bucket has no journal but a lease, which is its lock: its watch ends like a file's.
    const bucket = snapshot({ lock: null, journal: null });
    expect(runIsOver(bucket, bucket)).toBe(true);
  });
});
