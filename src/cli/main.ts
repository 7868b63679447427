#!/usr/bin/env node
/** The `checkpointer` command: look at, check and repair checkpoints. See docs/cli.md. */
import { processOutput } from './output.js';
import { runCli } from './program.js';

// `checkpoint-resume inspect x.json | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), { out: processOutput(), now: Date.now });
