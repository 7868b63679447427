/**
 * Opens an az:// checkpoint in a process where `@azure/storage-blob` cannot be found, as for a
 * user who did not install it, and prints the error's code and message.
 */
import '../support/hide-azure.js';

process.env.AZURE_STORAGE_CONNECTION_STRING = 'UseDevelopmentStorage=true';
const { CheckpointManager } = await import('../../src/index.js');
try {
  await CheckpointManager.open({ path: 'az://runs/train/checkpoint.json' });
  process.stdout.write('opened\n');
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ code, message })}\n`);
}
