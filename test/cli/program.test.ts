import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { plainStyle, wantsColour, type Output } from '../../src/cli/output.js';
import { reportError } from '../../src/cli/report-error.js';
import { CheckpointCorruptError } from '../../src/index.js';
import { tempDir } from './cli-helpers.js';

/** The CLI in this process, its output captured: fast checks of argument handling. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out: Output = {
    write: (text) => (stdout += text),
    writeError: (text) => (stderr += text),
    line: (text = '') => (stdout += `${text}\n`),
    error: (text) => (stderr += `${text}\n`),
    style: plainStyle,
  };
  const code = await runCli(args, { out, now: () => Date.parse('2026-01-01T00:00:00Z') });
  return { code, stdout, stderr };
}

describe('runCli', () => {
  it('exits 2 for every kind of usage error, writing nothing to stdout', async () => {
    const path = join(tempDir(), 'cp.json');
    const file = join(tempDir(), 'cp.json');
    writeFileSync(file, '{}');
    const cases: [string[], string][] = [
      [[], 'Usage: checkpoint-resume'],
      [['status'], "missing required argument 'checkpoint'"],
      [['frobnicate', path], "unknown command 'frobnicate'"],
      [['inspect', path, '--limit', 'lots'], 'expected a whole number >= 0, got "lots"'],
      [['inspect', path, '--limit', '-1'], 'expected a whole number >= 0'],
      [['restore', path], "required option '--backup <n>' not specified"],
      [['status', join(tempDir(), 'cp.txt')], '.json, .yaml or .yml'],
      [['status', 'postgres://user:secret@db/x'], 'postgres://user@db/x: a PostgreSQL checkpoint is named by its pipeline'],
      [['backups', 'postgres://user:secret@db/x', '--pipeline', 'p'], 'backups: PostgreSQL checkpoints have no backup files'],
      [['restore', 'postgresql://user:secret@db/x?password=secret', '--pipeline', 'p', '--backup', '0'], 'restore: PostgreSQL checkpoints have no backup files'],
      [['inspect', path, '--schema', 's'], `--schema: only for a postgres:// checkpoint; ${path} is a file`],
      [['list', file], `list: takes a directory, searched with its subdirectories, or a postgres:// URL; ${file} is a file — use "checkpoint-resume status ${file}"`],
      [['cleanup', file, '--keep', '1'], `cleanup: takes a directory, searched with its subdirectories; ${file} is a file`],
      [['cleanup', tempDir()], "required option '--keep <n>' not specified"],
      // Where the command does not apply, the user is told why rather than asked for its option.
      [['restore', 'az://runs/c.json'], 'restore: a checkpoint in a bucket keeps one backup object'],
      [['restore', 'postgres://user:secret@db/x', '--pipeline', 'p'], 'restore: PostgreSQL checkpoints have no backup files'],
      [['cleanup', 'az://runs/'], 'cleanup: takes a directory; in a bucket, expire old checkpoints with a lifecycle rule'],
      [['cleanup', 'postgres://user:secret@db/x'], 'cleanup: PostgreSQL checkpoints have no backup files'],
      [['cleanup', file], `cleanup: takes a directory, searched with its subdirectories; ${file} is a file`],
      [['cleanup', tempDir(), '--keep', '-1'], 'expected a whole number >= 0'],
      [['cleanup', 'postgres://user:secret@db/x', '--keep', '1'], 'cleanup: PostgreSQL checkpoints have no backup files'],
      [['list', tempDir(), '--schema', 's'], '--schema: only for a postgres:// URL'],
      [['status', 'postgres://user:secret@db/x', '--pipeline', 'p', '--schema', 'no;such'], 'Expected `schema` to be a PostgreSQL identifier'],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('secret');
    }
  });

  it('prints --help with the exit codes for the program and every command, exiting 0', async () => {
    const commands = ['status', 'inspect', 'validate', 'reset', 'retry-failed', 'backups', 'restore', 'compact', 'list', 'cleanup'];
    const argument: Record<string, string> = { list: '<dir|url>', cleanup: '<dir>' };
    const main = await run(['--help']);
    expect(main.code).toBe(0);
    for (const command of commands) expect(main.stdout).toContain(command);
    for (const command of commands) {
      const help = await run([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: checkpoint-resume ${command} [options] ${argument[command] ?? '<checkpoint>'}`);
      expect(help.stdout).toContain('3  a running process holds the checkpoint');
    }
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('reportError', () => {
  const capture = (): { out: Output; text: () => string } => {
    let text = '';
    const out: Output = { write: () => {}, writeError: () => {}, line: () => {}, error: (line) => (text += `${line}\n`), style: plainStyle };
    return { out, text: () => text };
  };

  it('prints a checkpoint error as one line without a stack trace', () => {
    const { out, text } = capture();
    const code = reportError(new CheckpointCorruptError('cp.json', [{ path: 'steps', message: 'expected object' }]), out, {});
    expect(code).toBe(1);
    expect(text()).toBe('error: cp.json: steps expected object — restore a backup with "checkpoint-resume restore" or start over with { onCorrupt: \'restart\' }\n');
  });

  it('treats anything else as a bug: message and how to report it, the stack only with CHECKPOINTER_DEBUG', () => {
    const quiet = capture();
    expect(reportError(new RangeError('boom'), quiet.out, {})).toBe(4);
    expect(quiet.text()).toContain('error: unexpected error: boom');
    expect(quiet.text()).toContain('Please report it');
    expect(quiet.text()).not.toMatch(/\n\s+at /);
    const debug = capture();
    reportError(new RangeError('boom'), debug.out, { CHECKPOINTER_DEBUG: '1' });
    expect(debug.text()).toMatch(/\n\s+at /);
  });
});

describe('wantsColour', () => {
  const tty = (colours: boolean): NodeJS.WriteStream => Object.assign(new PassThrough(), { isTTY: true, hasColors: () => colours }) as unknown as NodeJS.WriteStream;

  it('colours a terminal that supports it, unless NO_COLOR is set; never a pipe', () => {
    expect(wantsColour(tty(true), {})).toBe(true);
    expect(wantsColour(tty(true), { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(tty(false), {})).toBe(false);
    expect(wantsColour(new PassThrough() as unknown as NodeJS.WriteStream, {})).toBe(false);
  });
});
