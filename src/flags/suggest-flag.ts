import { closest } from '../core/validate-options.js';

/** The words of a flag name, with `checkpoints` read as `checkpoint`: `--no-checkpoints` → no, checkpoint. */
function wordsOf(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[-_]+/)
    .filter((word) => word !== '')
    .map((word) => (word === 'checkpoints' ? 'checkpoint' : word));
}

const sameWords = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

/**
 * The known flag an unknown one most likely meant, or `undefined`. Edit distance alone suggests
 * `--reset-checkpoint` for `--resume-checkpoint`, so word order and an added "checkpoint" are
 * looked at first:
 * - the same words in another order or number (`--checkpoint-reset`, `--no-checkpoints`);
 * - the words without "checkpoint" (`--resume-checkpoint` → `--resume`);
 * - then the nearest spelling (`--no-chekpoint`).
 */
export function suggestFlag(name: string, known: readonly string[]): string | undefined {
  const words = wordsOf(name);
  const reordered = known.find((flag) => sameWords(wordsOf(flag), words));
  if (reordered !== undefined) return reordered;
  const withoutCheckpoint = words.filter((word) => word !== 'checkpoint');
  const shortened = known.find((flag) => sameWords(wordsOf(flag), withoutCheckpoint));
  if (shortened !== undefined) return shortened;
  return closest(name, known);
}
