import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'docs/api/', 'scratch/', '.tmp/', 'examples/.runs/', 'test/bench/node_modules/', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // `typeof import('pg')` types a dependency that is loaded lazily, so those stay allowed.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      // Control characters are matched on purpose (NUL escapes, ANSI colour codes).
      'no-control-regex': 'off',
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:fs', 'node:fs/*', 'fs'], message: 'only stores and the CLI touch the file system' }] }],
    },
  },
  {
    files: ['src/stores/**', 'src/cli/**', 'test/**', 'examples/**', 'src/testing/**', '*.ts', '*.js'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
