import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('without @azure/storage-blob, an az:// path says to install it', () => {
  const script = fileURLToPath(new URL('./without-azure.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  const reported = JSON.parse(child.stdout.trim()) as { code: string; message: string };
  expect(reported.code).toBe('CHECKPOINT_STORE');
  expect(reported.message).toBe('az://runs: the "@azure/storage-blob" package is not installed — install @azure/storage-blob to use az:// paths: npm install @azure/storage-blob');
});
