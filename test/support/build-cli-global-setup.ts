import { build } from 'esbuild';
import { CLI_BUNDLE } from './cli-bundle.js';

/**
 * Bundles the CLI once for the whole run, so that each test's CLI process starts as fast as
 * the published one instead of transpiling the sources again (on a loaded machine that alone
 * took longer than some tests). Its dependencies stay imports, resolved from node_modules.
 */
export default async function setup(): Promise<void> {
  await build({ entryPoints: ['src/cli/main.ts'], outfile: CLI_BUNDLE, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
}
