import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCheckpointFlags } from '../../src/flags/parse-checkpoint-flags.js';
import { CheckpointArgumentError } from '../../src/index.js';

describe('parseCheckpointFlags', () => {
  it('resumes by default and leaves every other argument alone', () => {
    expect(parseCheckpointFlags(['--limit', '5', 'input.csv'])).toEqual({
      resume: true, force: false, resetCheckpoint: false, noCheckpoint: false, prompt: 'auto', rest: ['--limit', '5', 'input.csv'],
    });
  });

  it('reads the seeds\' flags with their meanings', () => {
    expect(parseCheckpointFlags(['--resume'])).toMatchObject({ resume: true, force: false, rest: [] });
    expect(parseCheckpointFlags(['--force', '--max-extensions', '25'])).toEqual({
      resume: true, force: true, resetCheckpoint: false, noCheckpoint: false, prompt: false, rest: ['--max-extensions', '25'],
    });
    expect(parseCheckpointFlags(['--reset-checkpoint'])).toMatchObject({ resume: true, force: true, resetCheckpoint: true });
    expect(parseCheckpointFlags(['--prod-mode', '--no-checkpoint'])).toEqual({
      resume: false, force: false, resetCheckpoint: false, noCheckpoint: true, prompt: false, rest: ['--prod-mode'],
    });
    expect(parseCheckpointFlags(['--resume=false'])).toMatchObject({ resume: false, noCheckpoint: false });
    expect(parseCheckpointFlags(['--force=true'])).toMatchObject({ force: true, rest: [] });
  });

  it('never takes arguments after -- or single-dash spellings as flags', () => {
    expect(parseCheckpointFlags(['--resume', '--', '--force'])).toMatchObject({ force: false, rest: ['--', '--force'] });
    expect(parseCheckpointFlags(['-force'])).toMatchObject({ force: false, rest: ['-force'] });
  });

  it('refuses contradictions and values it does not understand', () => {
    expect(() => parseCheckpointFlags(['--resume', '--no-checkpoint'])).toThrow(CheckpointArgumentError);
    expect(() => parseCheckpointFlags(['--force=yes'])).toThrow('Expected `--force` to be given without a value (or as =true / =false), got `"yes"` (string)');
    expect(() => parseCheckpointFlags('--force' as unknown as string[])).toThrow('Expected `argv` to be an array of strings');
  });

  it('reads process.argv when given nothing', () => {
    const saved = process.argv;
    process.argv = [saved[0]!, 'script.js', '--no-checkpoint', 'x'];
    try {
      expect(parseCheckpointFlags()).toMatchObject({ noCheckpoint: true, rest: ['x'] });
    } finally {
      process.argv = saved;
    }
  });

  it('keeps every argument that is not one of its flags, in order', () => {
    const ours = new Set(['--resume', '--force', '--force-restart', '--reset-checkpoint', '--no-checkpoint']);
    const other = fc.oneof(fc.constantFrom('--limit', '5', '-v', '--out=x', 'file.csv', '--forced', '--resume-from'), fc.string().filter((arg) => !arg.startsWith('-')));
    fc.assert(
      fc.property(fc.array(fc.oneof(other, fc.constantFrom('--force', '--force-restart', '--reset-checkpoint', '--no-checkpoint'))), (argv) => {
        const flags = parseCheckpointFlags(argv);
        expect(flags.rest).toEqual(argv.filter((arg) => !ours.has(arg)));
        const force = argv.includes('--force') || argv.includes('--force-restart') || argv.includes('--reset-checkpoint');
        expect(flags.force).toBe(force);
        expect(flags.resume).toBe(!argv.includes('--no-checkpoint'));
        expect(flags.prompt).toBe(force || argv.includes('--no-checkpoint') ? false : 'auto');
      }),
    );
  });

  it('takes --force-restart as --force, and says the prompt is decided once any resume flag is given', () => {
    expect(parseCheckpointFlags(['--force-restart', 'x'])).toEqual({
      resume: true, force: true, resetCheckpoint: false, noCheckpoint: false, prompt: false, rest: ['x'],
    });
    expect(parseCheckpointFlags(['--force-restart=false'])).toMatchObject({ force: false, prompt: 'auto', rest: [] });
    expect(parseCheckpointFlags(['--resume'])).toMatchObject({ resume: true, prompt: false });
    expect(parseCheckpointFlags(['--reset-checkpoint'])).toMatchObject({ prompt: false });
    expect(parseCheckpointFlags(['--no-checkpoint'])).toMatchObject({ prompt: false });
    expect(parseCheckpointFlags(['--verbose'])).toMatchObject({ prompt: 'auto' });
    expect(parseCheckpointFlags(['--', '--force-restart'])).toMatchObject({ force: false, prompt: 'auto', rest: ['--', '--force-restart'] });
    expect(() => parseCheckpointFlags(['--force-restart=now'])).toThrow('Expected `--force-restart` to be given without a value');
  });

  it('refuses an unknown flag that names a checkpoint, with the flag it most likely meant', () => {
    const message = (argv: string[]): string => {
      try {
        parseCheckpointFlags(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(CheckpointArgumentError);
        return (error as Error).message;
      }
      throw new Error(`${argv.join(' ')} was accepted`);
    };
    expect(message(['--checkpoint-reset'])).toContain('Unknown flag `--checkpoint-reset` — did you mean `--reset-checkpoint`?');
    expect(message(['--no-checkpoints'])).toContain('did you mean `--no-checkpoint`?');
    expect(message(['--resume-checkpoint'])).toContain('did you mean `--resume`?');
    expect(message(['--force-checkpoint=true'])).toContain('Unknown flag `--force-checkpoint` — did you mean `--force`?');
    expect(message(['--checkpoint'])).toContain('Unknown flag `--checkpoint` — ');
    // Near misses of our own flags: passed on, they would silently resume.
    expect(message(['--no-chekpoint'])).toContain('Unknown flag `--no-chekpoint` — did you mean `--no-checkpoint`?');
    expect(message(['--reset-checkpiont'])).toContain('did you mean `--reset-checkpoint`?');
    expect(message(['--force-restar'])).toContain('did you mean `--force-restart`?');
    expect(message(['--FORCE'])).toContain('did you mean `--force`?');
    expect(message(['--Resume'])).toContain('did you mean `--resume`?');
    expect(message(['--reset-Checkpoints'])).toContain('did you mean `--reset-checkpoint`?');
    const unrelated = message(['input.csv', '--checkpoint-dir', 'x']);
    expect(unrelated).toBe(
      'Unknown flag `--checkpoint-dir` — the checkpoint flags are `--resume`, `--force`, `--force-restart`, `--reset-checkpoint`, `--no-checkpoint`; ' +
        "a flag of the script's own that names a checkpoint goes after `--`",
    );
    // After `--`, or spelt with one dash, it is the script's own.
    expect(parseCheckpointFlags(['--', '--checkpoint-dir', 'x']).rest).toEqual(['--', '--checkpoint-dir', 'x']);
    expect(parseCheckpointFlags(['-checkpoint']).rest).toEqual(['-checkpoint']);
    // Other unknown flags still go to the script.
    expect(parseCheckpointFlags(['--resume-from', 'a', '--forced']).rest).toEqual(['--resume-from', 'a', '--forced']);
  });
});
