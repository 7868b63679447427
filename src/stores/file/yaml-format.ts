import { parseDocument, stringify } from 'yaml';
import type { SnapshotFormat } from './snapshot-format.js';

/** The checksum as the first line, exactly as it is written. */
const CHECKSUM_LINE = /^checksum: (crc32:[0-9a-f]{8})\n/;

/** Aliases let a small YAML file expand into a huge one (a "billion laughs"); allow a few. */
const MAX_ALIAS_COUNT = 100;

/**
 * Plain data only: the core schema has no custom tags, and a tag it cannot resolve (such as
 * `!!js/function`) is refused — the yaml library would only warn and read it as a string.
 */
function parse(text: string): unknown {
  const document = parseDocument(text, { schema: 'core', merge: false, uniqueKeys: true, customTags: [] });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) throw problem;
  return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
}

export const yamlFormat: SnapshotFormat = {
  name: 'YAML',
  parse,
  skeleton: (document) => stringify(document, { schema: 'core', aliasDuplicateObjects: false, lineWidth: 0 }),
  // JSON strings are valid YAML double-quoted scalars, and much faster to produce.
  items: (keys, indent) =>
    keys.length === 0 ? '[]' : `\n${keys.map((key) => `${indent}  - ${JSON.stringify(key)}`).join('\n')}`,
  checksumLine: (checksum) => ({ offset: 0, line: `checksum: ${checksum}\n` }),
  findChecksum: (text) => {
    const match = CHECKSUM_LINE.exec(text);
    return match ? { checksum: match[1]!, start: 0, end: match[0].length } : undefined;
  },
};
