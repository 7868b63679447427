/** A CLI-level failure with a message for the user (exit code 1 unless given). */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** There is no checkpoint at the path or URL given (a pipeline creates it on its first run). */
export class NoCheckpointError extends CliError {}
