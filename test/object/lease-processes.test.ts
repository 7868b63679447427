import { BlobServiceClient } from '@azure/storage-blob';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { AzureBlobStore } from '../../src/stores/object/azure-blob-store.js';
import { startAzurite, type AzuriteServer } from '../support/azurite.js';
import { ChildWorker } from '../support/processes.js';

const HOLDER = fileURLToPath(new URL('./lease-holder.ts', import.meta.url));
const KEY = 'runs/checkpoint.json';
let azurite: AzuriteServer;
const children: ChildWorker[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.process.kill('SIGCONT');
    await child.kill();
  }
});
afterAll(async () => {
  await azurite?.stop();
});

function holder(container: string, label: string, extra: string[] = []): ChildWorker {
  const child = new ChildWorker(HOLDER, ['--container', container, '--key', KEY, '--label', label, ...extra], {
    env: { ...process.env, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
  });
  children.push(child);
  return child;
}

const acked = (child: ChildWorker): string[] => child.lines.flatMap((line) => (line.startsWith('acked ') ? [line.slice(6)] : []));

/** Every completed key, read from the snapshot object after a close has folded everything into it. */
async function completedKeys(container: string): Promise<Set<string>> {
  const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const cp = await CheckpointManager.open({ store: new AzureBlobStore({ container, key: KEY, client }), pipeline: 'lease-test' });
  await cp.close();
  const body = await client.getContainerClient(container).getBlockBlobClient(KEY).downloadToBuffer();
  const snapshot = JSON.parse(body.toString('utf8')) as { steps: { s: { completedItems: string[] } } };
  return new Set(snapshot.steps.s.completedItems);
}

describe('the lease of an az:// checkpoint, between processes', () => {
  it('refuses a second process while the holder lives, naming its pid and host', async () => {
    const container = await azurite.createContainer();
    const first = holder(container, 'a', ['--count', '1']);
    await first.waitForLine((line) => line === 'done');
    const second = holder(container, 'b');
    const line = await second.waitForLine((each) => each.startsWith('locked '));
    expect(line).toBe(`locked ${first.pid} ${hostname()}`);
    first.process.stdin!.write('close\n');
    await first.waitForLine((each) => each === 'closed');
    // Released on close: the next process opens at once and sees the first one's mark.
    const third = holder(container, 'c', ['--count', '1']);
    await third.waitForLine((each) => each === 'done');
  });

  it('takes over from a holder frozen past its lease; the frozen one acknowledges nothing more and its late writes are never read', async () => {
    const container = await azurite.createContainer();
    // Short enough to wait for, long enough that a loaded machine never misses a renewal by accident.
    const lease = ['--ttl', '6000', '--renew', '1500'];
    const stale = holder(container, 'a', lease);
    await stale.waitForLine((line) => line === 'acked a-20');
    stale.process.kill('SIGSTOP');
    const next = holder(container, 'b', [...lease, '--wait', '--count', '20']);
    await next.waitForLine((line) => line === 'done');
    const ackedBeforeResume = acked(stale).length;
    stale.process.kill('SIGCONT');
    expect(await stale.waitForLine((line) => line.startsWith('refused '))).toBe('refused CHECKPOINT_LOCK_LOST');
    await stale.exited;
    next.process.stdin!.write('close\n');
    await next.waitForLine((line) => line === 'closed');

    const keys = await completedKeys(container);
    for (const key of [...acked(stale), ...acked(next)]) expect(keys.has(key)).toBe(true);
    expect(acked(next)).toHaveLength(20);
    // A line printed before the freeze may be read after it; nothing was acknowledged after the resume.
    const resumedAcks = acked(stale).slice(ackedBeforeResume);
    expect(resumedAcks.every((key) => keys.has(key))).toBe(true);
    // The one mark in flight at the freeze may have landed before the takeover; nothing later did.
    const unacknowledged = [...keys].filter((key) => key.startsWith('a-') && !acked(stale).includes(key));
    expect(unacknowledged.length).toBeLessThanOrEqual(1);
  });
});
