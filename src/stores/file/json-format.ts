import type { SnapshotFormat } from './snapshot-format.js';

export const jsonFormat: SnapshotFormat = {
  name: 'JSON',
  parse: (text) => JSON.parse(text) as unknown,
  skeleton: (document) => `${JSON.stringify(document, null, 2)}\n`,
  items: (keys, indent) =>
    keys.length === 0 ? '[]' : `[\n${keys.map((key) => `${indent}  ${JSON.stringify(key)}`).join(',\n')}\n${indent}]`,
};
