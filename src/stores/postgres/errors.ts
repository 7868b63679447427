import { CheckpointError } from '../../core/errors.js';

/**
 * A worker tried to complete, fail or release an item whose lease it no longer holds: the lease
 * expired and another worker claimed the item, or the item was released or reset meanwhile.
 * Nothing was written, so the item is completed once, by the worker that holds it now.
 */
export class LeaseLostError extends CheckpointError {
  readonly step: string;
  readonly key: string;

  constructor(location: string, step: string, key: string) {
    super(
      'CHECKPOINT_LOCK_LOST',
      `${location}: the lease on item ${JSON.stringify(key)} of step "${step}" was lost — it expired and another worker claimed the item, or the item was released or reset; nothing was saved for it here. Use a longer \`leaseMs\` if the work takes longer than the lease`,
      { location },
    );
    this.step = step;
    this.key = key;
  }
}
