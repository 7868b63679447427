/**
 * The exit codes of the `checkpointer` command, so that scripts can tell "the checkpoint is
 * bad" from "you typed it wrong" from "try again later, it is in use".
 */
export const ExitCode = {
  /** The command did what was asked; `validate` found nothing wrong. */
  ok: 0,
  /** The checkpoint is missing, invalid or damaged, or the command could not do its work. */
  failed: 1,
  /** The command line is wrong: unknown command or option, missing argument, bad value. */
  usage: 2,
  /** A live process holds the checkpoint's lock; nothing was changed. */
  locked: 3,
  /** An unexpected internal error (a bug in checkpointer). */
  internal: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
