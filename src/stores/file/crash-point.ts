/**
 * Test-only fault injection: `CHECKPOINTER_CRASH_AT=<point>[@<n>]` makes the process kill itself
 * with SIGKILL the n-th time (default: the first) it reaches the named point, so that crash tests
 * can aim at the exact moments that matter (between a rename and a directory fsync, …) instead of
 * hoping a random kill lands there.
 *
 * The variable is read once, when this module loads; when it is unset, `crashPoint` is an empty
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
  | 'close';

export const CRASH_POINTS: readonly CrashPointName[] = [
  'open',
  'open:after-journal-rewrite',
  'journal:after-write',
  'compaction:after-seal',
  'compaction:after-backup',
  'compaction:after-snapshot',
  'compaction:before-sealed-delete',
  'close',
];

function parseTarget(value: string | undefined): { point: string; hit: number } | undefined {
  if (!value) return undefined;
  const at = value.lastIndexOf('@');
  if (at === -1) return { point: value, hit: 1 };
  const hit = Number(value.slice(at + 1));
  return { point: value.slice(0, at), hit: Number.isSafeInteger(hit) && hit > 0 ? hit : 1 };
}

const target = parseTarget(process.env.CHECKPOINTER_CRASH_AT);
let hits = 0;

function crashIfTargeted(name: CrashPointName): void {
  if (name !== target!.point || ++hits < target!.hit) return;
  // SIGKILL sent to oneself is delivered before kill() returns: nothing after this line runs,
  // no handler, no flush — exactly like a kill -9 from outside.
  process.kill(process.pid, 'SIGKILL');
}

export const crashPoint: (name: CrashPointName) => void = target ? crashIfTargeted : () => {};
