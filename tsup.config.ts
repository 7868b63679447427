import { existsSync } from 'node:fs';
import { defineConfig } from 'tsup';

/** Public entry points: each becomes dist/<name>.js (ESM), .cjs (CommonJS) and .d.ts/.d.cts. */
const entries: Record<string, string> = {
  index: 'src/index.ts',
  testing: 'src/testing.ts',
  postgres: 'src/postgres.ts',
  'object-storage': 'src/object-storage.ts',
};

export default defineConfig([
  {
    entry: Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file))),
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'node20',
    sourcemap: false,
    splitting: true,
    external: ['pg', '@azure/storage-blob', '@aws-sdk/client-s3', '@google-cloud/storage'],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    sourcemap: false,
    external: ['pg', '@azure/storage-blob', '@aws-sdk/client-s3', '@google-cloud/storage'],
  },
]);
