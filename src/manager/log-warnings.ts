import type { Emitter, CheckpointEvents } from '../core/events.js';
import { describeProblem } from '../core/errors.js';
import type { Logger } from './options.js';

/** Reports warnings and recoveries to the logger, so they are seen even with no listener. */
export function logWarnings(emitter: Emitter<CheckpointEvents>, logger: Logger): void {
  emitter.on('warning', ({ message, cause }) => logger.warn(`${message}`, ...(cause ? [cause] : [])));
  emitter.on('recovered', (event) => logger.warn(
    `${event.location} was damaged (${describeProblem(event.problems[0])}); loaded the backup ${event.from}` +
      (event.movedTo ? ` and moved the damaged file to ${event.movedTo}` : '') +
      (event.lostItems === undefined ? '; how many completed items only the damaged file held is not known' : event.lostItems > 0 ? `; ${event.lostItems} completed item(s) only the damaged file held will be done again` : '; no completed item was lost'),
  ));
}
