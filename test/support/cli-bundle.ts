import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the test run's bundle of the CLI is (built by build-cli-global-setup.ts); it finds package.json two levels up, as from src/cli. */
export const CLI_BUNDLE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '.tmp', 'cli', 'main.js');
