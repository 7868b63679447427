import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCheckpointFlags } from '../../src/flags/parse-checkpoint-flags.js';
import { CheckpointArgumentError } from '../../src/index.js';

describe('parseCheckpointFlags', () => {
  it('resumes by default and leaves every other argument alone', () => {
    expect(parseCheckpointFlags(['--limit', '5', 'input.csv'])).toEqual({
      resume: true, force: false, resetCheckpoint: false, noCheckpoint: false, rest: ['--limit', '5', 'input.csv'],
    });
  });

  it('reads the seeds\' flags with their meanings', () => {
    expect(parseCheckpointFlags(['--resume'])).toMatchObject({ resume: true, force: false, rest: [] });
    expect(parseCheckpointFlags(['--force', '--max-extensions', '25'])).toEqual({
      resume: true, force: true, resetCheckpoint: false, noCheckpoint: false, rest: ['--max-extensions', '25'],
    });
    expect(parseCheckpointFlags(['--reset-checkpoint'])).toMatchObject({ resume: true, force: true, resetCheckpoint: true });
    expect(parseCheckpointFlags(['--prod-mode', '--no-checkpoint'])).toEqual({
      resume: false, force: false, resetCheckpoint: false, noCheckpoint: true, rest: ['--prod-mode'],
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
    const ours = new Set(['--resume', '--force', '--reset-checkpoint', '--no-checkpoint']);
    const other = fc.oneof(fc.constantFrom('--limit', '5', '-v', '--out=x', 'file.csv', '--forced', '--resume-from'), fc.string().filter((arg) => !arg.startsWith('-')));
    fc.assert(
      fc.property(fc.array(fc.oneof(other, fc.constantFrom('--force', '--reset-checkpoint', '--no-checkpoint'))), (argv) => {
        const flags = parseCheckpointFlags(argv);
        expect(flags.rest).toEqual(argv.filter((arg) => !ours.has(arg)));
        expect(flags.force).toBe(argv.includes('--force') || argv.includes('--reset-checkpoint'));
        expect(flags.resume).toBe(!argv.includes('--no-checkpoint'));
      }),
    );
  });
});
