import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointCorruptError } from '../../src/core/errors.js';
import type { CheckpointDocument } from '../../src/core/model.js';
import { CheckpointState } from '../../src/core/state.js';
import { formatForPath, jsonFormat, parseSnapshot, renderSnapshot, snapshotFormatFor, yamlFormat } from '../../src/stores/file/snapshot-formats.js';

/** More keys than one chunk of rendering holds (20,000), and not a multiple of it. */
const MANY = 45_001;

function documentWith(keys: string[]): CheckpointDocument {
  const document = new CheckpointState({ runId: 'run-1', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' }).toDocument();
  return { ...document, steps: { big: { completedItems: keys }, empty: { completedItems: [] } } };
}

const ODD_KEYS = ['odd "key" \\ é', 'line\nbreak\r\ttab', '\u2028 😀 \ud800', '  indented'];
const keys = (count: number): string[] => Array.from({ length: count }, (_, i) => (i % 1000 === 7 ? `${ODD_KEYS[(i / 1000) % ODD_KEYS.length | 0]} ${i}` : `item-${i}`));

/** A list as the formats define it, each key as JSON.stringify writes it. */
const reference = {
  JSON: (keys: readonly string[], indent: string): string => (keys.length === 0 ? '[]' : `[\n${keys.map((key) => `${indent}  ${JSON.stringify(key)}`).join(',\n')}\n${indent}]`),
  YAML: (keys: readonly string[], indent: string): string => (keys.length === 0 ? '[]' : `\n${keys.map((key) => `${indent}  - ${JSON.stringify(key)}`).join('\n')}`),
};

describe.each([jsonFormat, yamlFormat])('the $name snapshot format', (format) => {
  it('renders any keys to the bytes of each as JSON.stringify writes it', () => {
    const key = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...ODD_KEYS, 'doc/0000001.json', '', '\u007f', '~'));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 30 }), fc.constantFrom('', '    ', '      '), (list, indent) => {
        expect(Buffer.from(format.items(list, indent)).toString()).toBe(reference[format.name as 'JSON' | 'YAML'](list, indent));
      }),
      { numRuns: 5_000 },
    );
  });

  it('renders a list in chunks that, joined, are exactly the list rendered whole', () => {
    const list = keys(10);
    const pieces = [list.slice(0, 3), list.slice(3, 4), list.slice(4)];
    const joined = Buffer.concat(pieces.map((piece, i) => format.items(piece, '    ', { first: i === 0, last: i === pieces.length - 1 })));
    expect(joined.toString()).toBe(Buffer.from(format.items(list, '    ')).toString());
  });

  it(`reads back a snapshot of ${MANY} items rendered in chunks, checksum and all`, async () => {
    const document = documentWith(keys(MANY));
    const bytes = await renderSnapshot(format, document, 42);
    expect(format.findChecksum(bytes.toString('utf8'))).toBeDefined();
    const content = parseSnapshot(bytes, format, 'big.snapshot');
    expect(content.sequence).toBe(42);
    expect(content.steps.big!.completedItems).toEqual(document.steps.big!.completedItems);
    expect(content.steps.empty!.completedItems).toEqual([]);
  });

  it('reads a snapshot an editor saved with a byte order mark (its checksum line removed) as it reads it without one', async () => {
    const rendered = Buffer.from(await renderSnapshot(format, documentWith(['a', 'é', 'doc/1.json']), 3)).toString();
    const found = format.findChecksum(rendered)!;
    const edited = rendered.slice(0, found.start) + rendered.slice(found.end);
    const withMark = parseSnapshot(Buffer.from(`\ufeff${edited}`), format, 'marked.snapshot');
    expect(withMark).toEqual(parseSnapshot(Buffer.from(edited), format, 'plain.snapshot'));
    expect(withMark.steps.big!.completedItems).toEqual(['a', 'é', 'doc/1.json']);
  });

  it('refuses a rendered snapshot with one byte changed, naming the checksum', async () => {
    const bytes = await renderSnapshot(format, documentWith(keys(30)), 1);
    const at = bytes.indexOf('item-12');
    bytes[at + 5] = '3'.charCodeAt(0);
    expect(() => parseSnapshot(bytes, format, 'changed.snapshot')).toThrow(CheckpointCorruptError);
    expect(() => parseSnapshot(bytes, format, 'changed.snapshot')).toThrow(/checksum/);
  });
});

describe('a JSON snapshot rendered in chunks', () => {
  it('is byte for byte what JSON.stringify writes, after its checksum line', async () => {
    const document = documentWith(keys(MANY));
    const text = (await renderSnapshot(jsonFormat, document, 7)).toString('utf8');
    const found = jsonFormat.findChecksum(text)!;
    const { version, ...rest } = document;
    expect(text.slice(0, found.start) + text.slice(found.end)).toBe(`${JSON.stringify({ version, sequence: 7, ...rest }, null, 2)}\n`);
  });
});

describe('the format of a checkpoint path', () => {
  it('is picked by the extension, in any case', () => {
    expect(formatForPath('a/b.JSON')).toBe(jsonFormat);
    expect(formatForPath('state.yml')).toBe(yamlFormat);
    expect(formatForPath('state.Yaml')).toBe(yamlFormat);
    expect(formatForPath('state.json.bak')).toBeUndefined();
  });

  it('is a CheckpointArgumentError naming the path and the extensions when there is none', () => {
    expect(() => snapshotFormatFor('notes.txt')).toThrow(CheckpointArgumentError);
    expect(() => snapshotFormatFor('notes.txt')).toThrow(/\.json, \.yaml or \.yml, got .*notes\.txt/);
  });
});
