/**
 * Test-only fault injection: `CHECKPOINTER_CRASH_AT=<point>[@<n>]` makes the process kill itself
 * with SIGKILL the n-th time (default: the first) it reaches the named point, so that crash tests
 * can aim at the exact moments that matter (between a rename and a directory fsync, …) instead of
 * hoping a random kill lands there.
 *
 * The variables are read once, when this module loads; when they are unset, `crashPoint` is an empty
 * function and costs nothing measurable.
 */
export type CrashPointName =
  | 'open'
  | 'open:after-journal-rewrite'
  | 'journal:after-write'
  | 'compaction:after-seal'
  | 'compaction:after-backup'
  | 'compaction:after-snapshot'
  | 'compaction:before-sealed-delete'
  | 'close'
  | 'remove:after-compaction'
  | 'remove:after-journal'
  | 'remove:after-backups'
  | 'remove:after-snapshot';

export const CRASH_POINTS: readonly CrashPointName[] = [
  'open',
  'open:after-journal-rewrite',
  'journal:after-write',
  'compaction:after-seal',
  'compaction:after-backup',
  'compaction:after-snapshot',
  'compaction:before-sealed-delete',
  'close',
  'remove:after-compaction',
  'remove:after-journal',
  'remove:after-backups',
  'remove:after-snapshot',
];

function parseTarget(value: string | undefined): { point: string; hit: number } | undefined {
  if (!value) return undefined;
  const at = value.lastIndexOf('@');
  if (at === -1) return { point: value, hit: 1 };
  const hit = Number(value.slice(at + 1));
  return { point: value.slice(0, at), hit: Number.isSafeInteger(hit) && hit > 0 ? hit : 1 };
}

const crashAt = parseTarget(process.env.CHECKPOINTER_CRASH_AT);
/** `CHECKPOINTER_STOP_AT=<point>[@<n>]`: the process freezes itself (SIGSTOP) there instead, for tests of a holder frozen mid-operation. */
const stopAt = parseTarget(process.env.CHECKPOINTER_STOP_AT);
let crashHits = 0;
let stopHits = 0;

function signalIfTargeted(name: CrashPointName): void {
  // SIGKILL sent to oneself is delivered before kill() returns: nothing after this line runs,
  // no handler, no flush — exactly like a kill -9 from outside.
  if (name === crashAt?.point && ++crashHits >= crashAt.hit) process.kill(process.pid, 'SIGKILL');
  // SIGSTOP likewise: the process is frozen right here until someone sends SIGCONT.
  if (name === stopAt?.point && ++stopHits === stopAt.hit) process.kill(process.pid, 'SIGSTOP');
}

export const crashPoint: (name: CrashPointName) => void = crashAt || stopAt ? signalIfTargeted : () => {};
