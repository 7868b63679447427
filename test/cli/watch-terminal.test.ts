import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './cli-helpers.js';
import { DrivenRun, requireTmux, TmuxPane, watchInShell } from './watch-process.js';

/** `watch` in a real terminal (tmux), watching a run that the test drives one step at a time. */

const panes: TmuxPane[] = [];
const runs: DrivenRun[] = [];

function pane(args: string[]): TmuxPane {
  const opened = new TmuxPane(watchInShell(args));
  panes.push(opened);
  return opened;
}

async function startRun(path: string, ...totals: string[]): Promise<DrivenRun> {
  const run = await DrivenRun.start(path, ...totals);
  runs.push(run);
  return run;
}

/** The line of `step`'s bar on the screen. */
const barLine = (screen: string, step: string): string => screen.split('\n').find((line) => line.startsWith(`${step} `)) ?? '';

beforeAll(() => requireTmux());

afterEach(async () => {
  for (const opened of panes.splice(0)) opened.kill();
  for (const run of runs.splice(0)) await run.worker.kill();
});

describe('checkpoint-resume watch in a terminal', () => {
  it('redraws bars, counts and errors as the run marks items, and q gives the terminal back', async () => {
    const path = join(tempDir(), 'cp.json');
    const run = await startRun(path, 'enrich=20');
    await run.send('complete summarise 2');
    const terminal = pane([path, '--interval', '100']);

    let screen = await terminal.waitForScreen((text) => / 0\/20 +0\.0%/.test(barLine(text, 'enrich')));
    expect(screen).toContain(`Watching ${path} (JSON) every 100 ms — press q to quit`);
    expect(screen).toContain('Pipeline  watched');
    expect(screen).toContain(`Lock      held by process ${run.pid} on `);
    expect(barLine(screen, 'enrich')).toMatch(/^enrich +░{30} {2} 0\/20 +0\.0% {2}-\/s {2}ETA \?$/);
    expect(screen).toMatch(/^summarise {2}2 completed \(total unknown\)/m);
    expect(screen).toContain('No errors logged.');
    // The screen is the alternate one, the cursor hidden while it draws.
    expect(await terminal.show('#{alternate_on} #{cursor_flag}')).toBe('1 0');

    await run.send('complete enrich 5');
    screen = await terminal.waitForScreen((text) => / 5\/20 +25\.0%/.test(barLine(text, 'enrich')));
    // A quarter of 30 characters, rounded.
    expect(barLine(screen, 'enrich')).toMatch(/█{8}░{22}/);
    expect(screen).toContain('failed 0  dead letters 0  pending 15  in progress 0');

    await run.send('fail enrich item-bad upstream API refused item-bad');
    screen = await terminal.waitForScreen((text) => text.includes('enrich  item-bad  upstream API refused item-bad'));
    expect(screen).toContain('Errors: 1 logged, the newest last');
    expect(screen).toContain('failed 1  dead letters 0  pending 14  in progress 0');

    await run.send('complete enrich 15');
    screen = await terminal.waitForScreen((text) => /20\/20 +100\.0%/.test(barLine(text, 'enrich')));
    expect(barLine(screen, 'enrich')).toMatch(/█{30} {2}20\/20 {2}100\.0% {2}.*done$/);

    await terminal.sendKeys('q');
    screen = await terminal.waitForScreen((text) => /EXITED \d+ TERMINAL (RESTORED|CHANGED)/.test(text));
    expect(screen).toContain('EXITED 0');
    expect(screen).toContain('TERMINAL RESTORED');
    expect(await terminal.show('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    // The last frame stays on the normal screen.
    expect(barLine(screen, 'enrich')).toMatch(/20\/20/);
    // The run was not disturbed: it still holds the checkpoint and closes it.
    await run.close();
  });

  it('waits for a checkpoint that is not there yet, keeps watching after the run ends and sees the next one; Ctrl+C quits', async () => {
    const path = join(tempDir(), 'later.yaml');
    const terminal = pane([path, '--interval', '100']);
    await terminal.waitForScreen((text) => text.includes(`Waiting for ${path} to appear (a pipeline creates it on its first run) — press q to quit`));

    const first = await startRun(path, 'enrich=4');
    await first.send('complete enrich 1');
    await terminal.waitForScreen((text) => text.includes(`held by process ${first.pid} `) && / 1\/4 +25\.0%/.test(barLine(text, 'enrich')));
    await first.send('complete enrich 3');
    await first.close();
    let screen = await terminal.waitForScreen((text) => text.includes('no run holds the lock'));
    expect(screen).toContain('Lock      no run holds the lock: the run is over (or has not started)');
    expect(screen).toContain('Showing the final state; still watching, as a new run may start.');
    expect(barLine(screen, 'enrich')).toMatch(/4\/4 {2}100\.0% {2}.*done$/);

    const second = await startRun(path, 'enrich=4');
    screen = await terminal.waitForScreen((text) => text.includes(`held by process ${second.pid} `));
    expect(screen).not.toContain('still watching');

    await terminal.sendKeys('C-c');
    screen = await terminal.waitForScreen((text) => /EXITED \d+ TERMINAL (RESTORED|CHANGED)/.test(text));
    expect(screen).toContain('EXITED 0');
    expect(screen).toContain('TERMINAL RESTORED');
    expect(await terminal.show('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });

  it('a checkpoint that becomes unreadable ends the watch with its error, exit code 1, and the terminal given back', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const run = await startRun(path, 'enrich=4');
    await run.send('complete enrich 2');
    await run.close();
    const terminal = pane([path, '--interval', '100']);
    await terminal.waitForScreen((text) => / 2\/4 +50\.0%/.test(barLine(text, 'enrich')));

    // The checkpoint and every backup damaged: nothing left to show.
    for (const name of readdirSync(directory).filter((file) => file.startsWith('cp.json'))) writeFileSync(join(directory, name), '{ not json');
    const screen = await terminal.waitForScreen((text) => /EXITED \d+ TERMINAL (RESTORED|CHANGED)/.test(text));
    expect(screen).toContain('EXITED 1');
    expect(screen).toContain('TERMINAL RESTORED');
    expect(screen).toMatch(/error: .*cp\.json/);
    expect(screen).not.toContain('unexpected error');
    expect(await terminal.show('#{alternate_on} #{cursor_flag}')).toBe('0 1');
  });
});
