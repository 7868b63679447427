/**
 * Opens the checkpoint URL given as the argument in a process where `@aws-sdk/client-s3` and
 * `@google-cloud/storage` cannot be found, as for a user who did not install them, and prints the
 * error's code and message.
 */
import '../support/hide-s3-and-gcs.js';

const { CheckpointManager } = await import('../../src/index.js');
try {
  await CheckpointManager.open({ path: process.argv[2]! });
  process.stdout.write('opened\n');
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ code, message })}\n`);
}
