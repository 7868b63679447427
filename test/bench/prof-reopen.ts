import { cpSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from './scenarios/ours.js';
const copy = mkdtempSync('/tmp/reo-copy-');
cpSync('/tmp/reo', copy, { recursive: true });
const start = performance.now();
const cp = await openCheckpoint(copy, 'normal');
console.log('open ms', performance.now() - start);
await cp.close();
