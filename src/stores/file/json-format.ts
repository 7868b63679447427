import type { SnapshotFormat } from './snapshot-format.js';

/** The checksum as the first field, right after the opening brace, exactly as it is written. */
const CHECKSUM_LINE = /^\{\n {2}"checksum": "(crc32:[0-9a-f]{8})",\n/;

export const jsonFormat: SnapshotFormat = {
  name: 'JSON',
  parse: (text) => JSON.parse(text) as unknown,
  skeleton: (document) => `${JSON.stringify(document, null, 2)}\n`,
  items: (keys, indent) =>
    keys.length === 0 ? '[]' : `[\n${keys.map((key) => `${indent}  ${JSON.stringify(key)}`).join(',\n')}\n${indent}]`,
  checksumLine: (checksum) => ({ offset: 2, line: `  "checksum": "${checksum}",\n` }),
  findChecksum: (text) => {
    const match = CHECKSUM_LINE.exec(text);
    return match ? { checksum: match[1]!, start: 2, end: match[0].length } : undefined;
  },
};
