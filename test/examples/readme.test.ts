import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(resolve('README.md'), 'utf8');

/** The first TypeScript block after `heading` in the README, importing the library's source. */
function codeAfter(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README has no TypeScript block after "${heading}"`);
  return block.replace(/from 'checkpoint-resume'/g, `from ${JSON.stringify(resolve('src/index.ts'))}`);
}

/** Runs a script from its temp directory (the quick start uses a relative path); tsx resolved from here. */
function runScript(script: string, env: Record<string, string> = {}) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return spawnSync(process.execPath, ['--import', tsx, script], { cwd: dirname(script), encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('README', () => {
  it('the quick start runs as written, twice: the second run finds nothing left to do', () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-readme-'));
    const script = join(directory, 'quick-start.mts');
    // Without the final complete(), the second run shows the resume: every item already done.
    const code = codeAfter('## Quick start');
    expect(code).toContain('await cp.complete()');
    writeFileSync(script, code.replace('await cp.complete()', 'await cp.close().then(() => ({ removed: true, left: { failed: 0 } }))'));

    const first = runScript(script);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/completed: 3,\s+failed: 0/);
    expect(existsSync(join(directory, 'input_data', 'pipeline_checkpoint.json'))).toBe(true);

    const second = runScript(script);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/completed: 3,\s+failed: 0/);
  });

  it('the quick start with a failing item: the first run keeps the checkpoint and says so, the second retries it and removes it', () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-readme-'));
    const script = join(directory, 'quick-start.mts');
    const enrich = 'const enrich = async (doc: { id: number }) => ({ words: doc.id * 100 });';
    const code = codeAfter('## Quick start');
    expect(code).toContain(enrich);
    // Document 2 fails while FAIL_DOC is set; every document enriched is printed.
    const failing = `const enrich = async (doc: { id: number }) => {
  console.log(\`enriching \${doc.id}\`);
  if (String(doc.id) === process.env.FAIL_DOC) throw new Error(\`document \${doc.id} failed\`);
  return { words: doc.id * 100 };
};`;
    writeFileSync(script, code.replace(enrich, failing));
    const checkpoint = join(directory, 'input_data', 'pipeline_checkpoint.json');

    const first = runScript(script, { FAIL_DOC: '2' });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('enriching 1\nenriching 2\nenriching 3\n');
    expect(first.stdout).toMatch(/completed: 2,\s+failed: 1/);
    expect(first.stdout).toContain('1 failed: run again to retry them');
    // The library's warning, through the default logger (console.warn → stderr).
    expect(first.stderr).toContain('[checkpointer] input_data/pipeline_checkpoint.json: complete() kept the checkpoint');
    expect(first.stderr).toContain('step "enrich": 1 failed');
    expect(first.stderr).toContain('complete({ force: true })');
    expect(existsSync(checkpoint)).toBe(true);

    const second = runScript(script);
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    // Only the failed document is done again; 1 and 3 are skipped.
    expect(second.stdout.match(/enriching \d/g)).toEqual(['enriching 2']);
    expect(second.stdout).toMatch(/completed: 3,\s+failed: 0/);
    expect(second.stdout).not.toContain('run again');
    expect(readdirSync(join(directory, 'input_data'))).toEqual([]);
  });
});
