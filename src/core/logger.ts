/** Console-like logger; `console` and pino both fit. */
export interface Logger {
  debug?(message: string, ...rest: unknown[]): void;
  info?(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** What the library's own log lines start with, so that a person can tell them from the program's. */
export const LOG_PREFIX = '[checkpointer]';

/**
 * `logger` with every message starting with {@link LOG_PREFIX}: the one place the prefix is
 * added. `info` goes to `warn` when the logger has no `info`; `debug` is dropped when it has no `debug`.
 */
export function prefixedLogger(logger: Logger): Required<Logger> {
  const line = (message: string): string => `${LOG_PREFIX} ${message}`;
  return {
    debug: (message, ...rest) => logger.debug?.(line(message), ...rest),
    info: (message, ...rest) => (logger.info ? logger.info(line(message), ...rest) : logger.warn(line(message), ...rest)),
    warn: (message, ...rest) => logger.warn(line(message), ...rest),
    error: (message, ...rest) => logger.error(line(message), ...rest),
  };
}
