#!/usr/bin/env node
/** The `checkpointer` command: look at, check and repair checkpoints. See docs/cli.md. */
import { processOutput } from './output.js';
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), { out: processOutput(), now: Date.now });
