import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('without the pg package, PostgresStore says to install it', () => {
  const script = fileURLToPath(new URL('./without-pg.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  const reported = JSON.parse(child.stdout.trim()) as { code: string; message: string };
  expect(reported.code).toBe('CHECKPOINT_STORE');
  expect(reported.message).toContain('install pg to use PostgresStore');
  expect(reported.message).not.toContain(':pw@');
});
