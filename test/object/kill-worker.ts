/**
 * The crash worker's twin for an az:// checkpoint: the same line protocol (see test/crash/worker.ts)
 * plus an `opening` line just before the open. Config (JSON in argv[2]): see ObjectWorkerConfig.
 */
import { fileURLToPath } from 'node:url';
import type { Durability } from '../../src/index.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import { itemName, markAll, report, STEP } from '../crash/protocol.js';

export interface ObjectWorkerConfig {
  connectionString: string;
  container: string;
  key: string;
  durability: Durability;
  items: number;
  concurrency: number;
  batchSize?: number;
}

/** Compacting after a few segments, so that kills land inside compactions too. */
export function objectStore(config: ObjectWorkerConfig): AzureBlobStore {
  process.env.AZURE_STORAGE_CONNECTION_STRING = config.connectionString;
  return new AzureBlobStore({
    container: config.container,
    key: config.key,
    durability: config.durability,
    maxSegments: 8,
    minCompactBytes: 4096,
    ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize, batchIntervalMs: 50 }),
  });
}

/** What one kill of this worker may lose: nothing acknowledged in `full` and `normal`; in `batched` two batches. */
export function lossBound(config: ObjectWorkerConfig): number | undefined {
  return config.durability === 'batched' ? 2 * (config.batchSize ?? 100) : undefined;
}

async function main(config: ObjectWorkerConfig): Promise<void> {
  const items = Array.from({ length: config.items }, (_, i) => itemName(i));
  report('opening');
  const cp = await CheckpointManager.open({
    store: objectStore(config),
    pipeline: 'crash-test',
    logger: { warn: (message: string) => report(`warn ${message.replace(/\n/g, ' ')}`), error: (message: string) => report(`warn ${message}`) },
  });
  const pending = cp.pendingItems(STEP, items);
  report(`open ${JSON.stringify({ completed: items.filter((item) => cp.isItemCompleted(STEP, item)), pending })}`);
  await markAll(cp, pending, config.concurrency, report);
  await cp.close();
  report('done');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  main(JSON.parse(process.argv[2]) as ObjectWorkerConfig).catch((error: unknown) => {
    const { code, message } = error as { code?: string; message?: string };
    report(`error ${code ?? 'UNKNOWN'} ${String(message).replace(/\n/g, ' ')}`);
    process.exitCode = 1;
  });
}
