/**
 * `npm run example:cloud`: a checkpoint in a bucket, for jobs whose machine does not survive. It
 * starts Azurite (Microsoft's Azure Storage server, from npm) on a free local port, then runs a
 * loop over 400 documents with its checkpoint at `az://demo/runs/enrich/checkpoint.json`. The first
 * run is a child process that kills itself with SIGKILL after 250 documents, as a spot VM would
 * vanish; the second run resumes from the bucket alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { CheckpointManager } from '../src/index.js';

const path = 'az://demo/runs/enrich/checkpoint.json';
const documents = Array.from({ length: 400 }, (_, i) => ({ id: i + 1 }));
const crashAfter = Number(process.env.CRASH_AFTER ?? 0);

async function run(): Promise<void> {
  const label = `[run ${crashAfter ? 1 : 2}]`;
  // `full`: a mark resolves once it is in the bucket, so the kill below loses nothing acknowledged.
  const cp = await CheckpointManager.open({ path, pipeline: 'enrich_documents', durability: 'full', itemKey: (doc: { id: number }) => `doc-${doc.id}` });
  const todo = cp.pendingItems('enrich', documents);
  console.log(`${label} ${documents.length - todo.length} documents already done, ${todo.length} to go`);
  let done = 0;
  // Four documents at a time: their marks share one segment object (group commit).
  const queue = [...todo];
  const worker = async (): Promise<void> => {
    for (let doc = queue.shift(); doc; doc = queue.shift()) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await cp.markItemCompleted('enrich', doc);
      if (++done === crashAfter) {
        console.log(`[run 1] the machine vanishes: SIGKILL after ${done} documents`);
        process.kill(process.pid, 'SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const { completed } = cp.getProgressSummary().steps.enrich!;
  await cp.close();
  console.log(`[run 2] finished: ${completed} documents completed`);
}

/** Azurite's blob service in memory on a free port; resolves with the connection string once it listens. */
async function startAzurite(): Promise<{ connectionString: string; stop: () => void }> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  const child = spawn(process.execPath, [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`Azurite exited with ${code} before it listened`)));
  });
  // Azurite's fixed development account, published by Microsoft.
  const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
  return { connectionString, stop: () => child.kill() };
}

if (crashAfter) {
  await run();
} else {
  const azurite = await startAzurite();
  try {
    process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('demo');
    await container.create();
    console.log(`[demo] Azurite is up; the checkpoint goes to ${path}`);
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...process.env, CRASH_AFTER: '250' }, stdio: 'inherit' });
    console.log(`[demo] first run ended by ${child.signal ?? `exit code ${child.status}`}; what it left in the bucket:`);
    const kinds = new Map<string, number>();
    for await (const blob of container.listBlobsFlat({ prefix: 'runs/enrich/' })) {
      const kind = blob.name.includes('.segments/') ? 'checkpoint.json.segments/…' : blob.name.slice('runs/enrich/'.length);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    for (const [kind, count] of [...kinds].sort()) console.log(`         ${kind}${count > 1 ? ` (${count} objects)` : ''}`);
    // The killed holder's lease is still there; it ran on this host and is gone, so it is taken over at once.
    await run();
    const snapshot = await container.getBlockBlobClient('runs/enrich/checkpoint.json').downloadToBuffer();
    console.log(`[demo] the snapshot is the readable document (${snapshot.length} bytes):\n${snapshot.toString('utf8').split('\n').slice(0, 6).join('\n')}\n  …`);
  } finally {
    azurite.stop();
  }
}
