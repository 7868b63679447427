/**
 * The package as a user downloads it: `npm pack`, unpacked into a fresh project's node_modules,
 * compiled with `tsc --strict --skipLibCheck false` in ESM and CommonJS, with and without
 * `@types/node` — the README's TypeScript samples as written. And every docs link of the README
 * is a file in the package.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const TSC = require.resolve('typescript/bin/tsc');
const TYPES = resolve('node_modules/@types');
const readme = readFileSync(resolve('README.md'), 'utf8');
const { name } = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { name: string };

let root: string;
let unpacked: string;

// Asynchronous: a build can take minutes on a loaded machine, and a test worker whose event loop is
// blocked that long misses its test runner's replies.
const run = promisify(execFile);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'checkpointer-consumer-'));
  // `npm pack` builds first (prepack), as a publish would.
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', root], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const tarball = stdout.trim().split('\n').at(-1)!;
  await run('tar', ['-xzf', join(root, tarball), '-C', root]);
  unpacked = join(root, 'package');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The README's TypeScript blocks; the ones that use names they do not define get declarations of them. */
function samples(): string[] {
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

const DECLARATIONS = `
import type { CheckpointManager as Manager } from '${name}';
declare const cp: Manager;
declare const documents: { id: number; text: string }[];
declare const llm: { summarise(doc: { id: number; text: string }, options: { signal: unknown }): Promise<{ cost: number; tokens: number }> };
declare function frameIds(ctx: { videoPath: string }): string[];
declare function extractFrame(frame: string): Promise<void>;
declare function train(ctx: { videoPath: string }): Promise<string>;
`;

/** A sample as a module: its imports first, its body in an async function (CommonJS has no top-level await). */
function asModule(sample: string, index: number, withNodeTypes: boolean): string {
  const lines = sample.split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  const body = lines.filter((line) => !line.startsWith('import '));
  const declarations = /\bcp\b/.test(sample) && !/const cp =/.test(sample) ? DECLARATIONS : DECLARATIONS.replace(/^declare const cp.*$/m, '').replace(/^import type .*$/m, '');
  // The samples print with console, which only Node's (or the DOM's) types declare.
  const console = withNodeTypes ? '' : 'declare const console: { log(...values: unknown[]): void };\n';
  return `${imports.join('\n')}\n${declarations}${console}\nexport async function sample${index}(): Promise<void> {\n${body.join('\n')}\n}\n`;
}

async function project(kind: 'esm' | 'commonjs', withNodeTypes: boolean): Promise<string> {
  const directory = join(root, `${kind}-${withNodeTypes ? 'node-types' : 'no-node-types'}`);
  mkdirSync(join(directory, 'node_modules'), { recursive: true });
  // Its own copy: a symlink would let TypeScript find the repository's node_modules/@types.
  if (!existsSync(join(directory, 'node_modules', name))) await run('cp', ['-r', unpacked, join(directory, 'node_modules', name)]);
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: kind === 'esm' ? 'module' : 'commonjs' }));
  writeFileSync(
    join(directory, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022'],
        module: kind === 'esm' ? 'nodenext' : 'node16',
        moduleResolution: kind === 'esm' ? 'nodenext' : 'node16',
        types: withNodeTypes ? ['node'] : [],
        ...(withNodeTypes ? { typeRoots: [TYPES] } : {}),
      },
      include: ['*.ts'],
    }),
  );
  samples().forEach((sample, index) => writeFileSync(join(directory, `sample-${index}.ts`), asModule(sample, index, withNodeTypes)));
  return directory;
}

function compile(directory: string): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [TSC, '-p', directory], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => done({ status, output }));
  });
}

describe(`the packed ${name}`, () => {
  it('holds every docs page the README links to', () => {
    const links = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(join(unpacked, link)), link).toBe(true);
    expect(readdirSync(join(unpacked, 'docs')).length).toBeGreaterThan(5);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toHaveProperty('repository');
    expect(manifest).toHaveProperty('homepage');
    expect(manifest).toHaveProperty('bugs');
    expect(manifest.bin).toEqual({ [name]: './dist/cli.js' });
  });

  for (const kind of ['esm', 'commonjs'] as const) {
    for (const withNodeTypes of [false, true]) {
      it(`compiles the README samples strictly (${kind}, ${withNodeTypes ? 'with' : 'without'} @types/node)`, async () => {
        const directory = await project(kind, withNodeTypes);
        expect(readdirSync(directory).filter((file) => file.startsWith('sample-')).length).toBe(samples().length);
        const { status, output } = await compile(directory);
        expect(output).toBe('');
        expect(status).toBe(0);
      });
    }
  }
});
