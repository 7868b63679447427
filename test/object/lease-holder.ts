/**
 * A process that holds an az:// checkpoint: opens it (with `--wait`, retrying while another
 * process holds the lease), marks `<label>-0`, `<label>-1`, … and reports each step on stdout:
 *   opened | locked <pid> <host> | acked <key> | refused <code> | done | closed
 * Marks until `--count` (then prints `done` and waits for a `close` line on stdin), or for ever.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CheckpointLockedError, type CheckpointError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';

const { values } = parseArgs({
  options: {
    container: { type: 'string' },
    key: { type: 'string' },
    label: { type: 'string' },
    count: { type: 'string', default: '0' },
    ttl: { type: 'string', default: '30000' },
    renew: { type: 'string', default: '10000' },
    wait: { type: 'boolean', default: false },
  },
});
const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function open(): Promise<CheckpointManager> {
  for (;;) {
    try {
      const store = new AzureBlobStore({ container: values.container!, key: values.key!, durability: 'full', leaseTtlMs: Number(values.ttl), leaseRenewMs: Number(values.renew) });
      return await CheckpointManager.open({ store, pipeline: 'lease-test', logger: { warn: () => {}, error: () => {} } });
    } catch (error) {
      if (!(error instanceof CheckpointLockedError)) throw error;
      if (!values.wait) {
        say(`locked ${error.pid} ${error.host}`);
        process.exit(0);
      }
      // Waiting for the holder's lease to run out: polled, as a second process would.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const cp = await open();
say('opened');
const count = Number(values.count);
for (let n = 0; count === 0 || n < count; n++) {
  const key = `${values.label}-${n}`;
  try {
    await cp.markItemCompleted('s', key);
  } catch (error) {
    say(`refused ${(error as CheckpointError).code}`);
    await cp.close().catch(() => {});
    process.exit(0);
  }
  say(`acked ${key}`);
}
say('done');
for await (const line of createInterface({ input: process.stdin })) if (line === 'close') break;
await cp.close();
say('closed');
