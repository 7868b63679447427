import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const library = join(process.cwd(), 'src', 'index.ts');

describe('the lock of a process that calls process.exit()', () => {
  it('is removed on exit, so the next run does not even have to take it over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-lock-exit-'));
    const path = join(dir, 'checkpoint.json');
    const script = join(dir, 'exit.mts');
    writeFileSync(script, [
      `import { existsSync } from 'node:fs';`,
      `import { CheckpointManager } from ${JSON.stringify(library)};`,
      `const cp = await CheckpointManager.open({ path: ${JSON.stringify(path)} });`,
      `await cp.markItemCompleted('step', 'a');`,
      `if (!existsSync(${JSON.stringify(`${path}.lock`)})) process.exit(9); // held while open`,
      `process.exit(75);`,
    ].join('\n'));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(75);
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
