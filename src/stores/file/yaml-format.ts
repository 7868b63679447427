import { parse, stringify } from 'yaml';
import type { SnapshotFormat } from './snapshot-format.js';

/** Aliases let a small YAML file expand into a huge one (a "billion laughs"); allow a few. */
const MAX_ALIAS_COUNT = 100;

export const yamlFormat: SnapshotFormat = {
  name: 'YAML',
  // The core schema has no custom tags (no !!js/function and the like): plain data only.
  parse: (text) => parse(text, { schema: 'core', maxAliasCount: MAX_ALIAS_COUNT, merge: false, uniqueKeys: true, customTags: [] }) as unknown,
  skeleton: (document) => stringify(document, { schema: 'core', aliasDuplicateObjects: false, lineWidth: 0 }),
  // JSON strings are valid YAML double-quoted scalars, and much faster to produce.
  items: (keys, indent) =>
    keys.length === 0 ? '[]' : `\n${keys.map((key) => `${indent}  - ${JSON.stringify(key)}`).join('\n')}`,
};
