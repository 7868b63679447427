import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(resolve('README.md'), 'utf8');

/** The first TypeScript block after `heading` in the README, importing the library's source. */
function codeAfter(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README has no TypeScript block after "${heading}"`);
  return block.replace(/from 'checkpointer'/g, `from ${JSON.stringify(resolve('src/index.ts'))}`);
}

describe('README', () => {
  it('the quick start runs as written, twice: the second run finds nothing left to do', () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-readme-'));
    const script = join(directory, 'quick-start.mts');
    // Without the final complete(), the second run shows the resume: every item already done.
    writeFileSync(script, codeAfter('## Quick start').replace('await cp.complete();', 'await cp.close();'));
    // Run from the temp directory (the quick start uses a relative path); tsx resolved from here.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const run = () => spawnSync(process.execPath, ['--import', tsx, script], { cwd: directory, encoding: 'utf8' });

    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/completed: 3,\s+failed: 0/);
    expect(existsSync(join(directory, 'input_data', 'pipeline_checkpoint.json'))).toBe(true);

    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/completed: 3,\s+failed: 0/);
  });
});
