import { randomUUID } from 'node:crypto';
import { parseDocument as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CheckpointArgumentError, CheckpointCorruptError, describeValue } from '../../core/errors.js';
import { isJsonObject } from '../../core/json.js';
import type { CheckpointDocument } from '../../core/model.js';
import { parseDocument } from '../../core/schema.js';
import { continueCrc32 } from './crc32.js';
import { renderKeyList } from './key-list.js';

/** Where a piece of a completed-item list rendered in chunks stands: the first, the last, both or neither. */
export interface ListChunk {
  first: boolean;
  last: boolean;
}

const WHOLE_LIST: ListChunk = { first: true, last: true };

/** How a file store turns a document into text and back. */
export interface SnapshotFormat {
  readonly name: string;
  /** The file names this format is picked for, by their extension. */
  readonly extension: RegExp;
  /** Parses text; throws (any error) if the text is not valid in this format. */
  parse(text: string): unknown;
  /** Renders everything but the completed-item lists, which stand as placeholder strings. */
  skeleton(document: object): string;
  /**
   * Renders a completed-item list (or, for a long one rendered in chunks, the piece `chunk` of
   * it) for the line indented by `indent`, as UTF-8 bytes. The pieces of one list, joined, are
   * the whole list.
   */
  items(keys: readonly string[], indent: string, chunk?: ListChunk): Uint8Array;
  /**
   * The checksum line this format writes (e.g. `  "checksum": "crc32:1a2b3c4d",\n`) and how many
   * bytes of a rendering without one come before it. It is the first field, so that a file cut
   * short anywhere no longer matches its checksum.
   */
  checksumLine(checksum: string): { offset: number; line: string };
  /** The line {@link checksumLine} wrote, where it writes it: its checksum and its place in `text`. */
  findChecksum(text: string): FoundChecksum | undefined;
}

export interface FoundChecksum {
  /** `crc32:` and 8 hex digits. */
  checksum: string;
  /** Where the checksum line starts and ends in the text (it is ASCII, and so is all before it). */
  start: number;
  end: number;
}

/**
 * A snapshot's content: the document plus the last journal sequence it contains, and the lease
 * epoch it was written in when a store keeps one (object storage).
 */
export type SnapshotContent = CheckpointDocument & { sequence: number; epoch?: number };

/** The checksum as the first field, right after the opening brace, exactly as it is written. */
const JSON_CHECKSUM_LINE = /^\{\n {2}"checksum": "(crc32:[0-9a-f]{8})",\n/;

export const jsonFormat: SnapshotFormat = {
  name: 'JSON',
  extension: /\.json$/i,
  parse: (text) => JSON.parse(text) as unknown,
  skeleton: (document) => `${JSON.stringify(document, null, 2)}\n`,
  items: (keys, indent, chunk = WHOLE_LIST) => {
    if (keys.length === 0 && chunk.first && chunk.last) return Buffer.from('[]');
    // A list rendered in chunks is one `[...]`: only the first chunk opens it, only the last closes it.
    return renderKeyList(keys, { lead: chunk.first ? '[\n' : ',\n', before: `${indent}  `, between: ',\n', tail: chunk.last ? `\n${indent}]` : '' });
  },
  checksumLine: (checksum) => ({ offset: 2, line: `  "checksum": "${checksum}",\n` }),
  findChecksum: (text) => {
    const match = JSON_CHECKSUM_LINE.exec(text);
    return match ? { checksum: match[1]!, start: 2, end: match[0].length } : undefined;
  },
};

/** The checksum as the first line, exactly as it is written. */
const YAML_CHECKSUM_LINE = /^checksum: (crc32:[0-9a-f]{8})\n/;

/** Aliases let a small YAML file expand into a huge one (a "billion laughs"); allow a few. */
const MAX_ALIAS_COUNT = 100;

/**
 * Plain data only: the core schema has no custom tags, and a tag it cannot resolve (such as
 * `!!js/function`) is refused — the yaml library would only warn and read it as a string.
 */
function parseYamlSafely(text: string): unknown {
  const document = parseYaml(text, { schema: 'core', merge: false, uniqueKeys: true, customTags: [] });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) throw problem;
  return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
}

export const yamlFormat: SnapshotFormat = {
  name: 'YAML',
  extension: /\.ya?ml$/i,
  parse: parseYamlSafely,
  skeleton: (document) => stringifyYaml(document, { schema: 'core', aliasDuplicateObjects: false, lineWidth: 0 }),
  // JSON strings are valid YAML double-quoted scalars, and much faster to produce. A block list
  // has no brackets: its chunks join as they are.
  items: (keys, indent, chunk = WHOLE_LIST) =>
    keys.length === 0 && chunk.first && chunk.last ? Buffer.from('[]') : renderKeyList(keys, { lead: '\n', before: `${indent}  - `, between: '\n', tail: '' }),
  checksumLine: (checksum) => ({ offset: 0, line: `checksum: ${checksum}\n` }),
  findChecksum: (text) => {
    const match = YAML_CHECKSUM_LINE.exec(text);
    return match ? { checksum: match[1]!, start: 0, end: match[0].length } : undefined;
  },
};

const FORMATS = [jsonFormat, yamlFormat];

/** The snapshot format a checkpoint path uses, by its extension; `undefined` for any other path. */
export function formatForPath(path: string): SnapshotFormat | undefined {
  return FORMATS.find((format) => format.extension.test(path));
}

/** The snapshot format a checkpoint path uses, by its extension (as `CheckpointManager.open` picks its store). */
export function snapshotFormatFor(path: string): SnapshotFormat {
  const format = formatForPath(path);
  if (format) return format;
  throw new CheckpointArgumentError(`Expected a checkpoint path ending in .json, .yaml or .yml, got ${describeValue(path)}`);
}

/** How a snapshot's checksum is written: `crc32:` and 8 lowercase hex digits. */
export const formatChecksum = (crc: number): string => `crc32:${crc.toString(16).padStart(8, '0')}`;

const CHUNK = 20_000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Renders a snapshot without blocking the event loop for long: the completed-item lists (the
 * bulk of a big checkpoint) are rendered in chunks with a yield between them, and each chunk is
 * encoded to bytes as it is made, so marks keep flowing while a million-item snapshot is written.
 * The result is bytes rather than one big string: joining and then encoding a 30 MB string are
 * each one long synchronous step, and the file writer would otherwise encode it again.
 * The checksum line goes first; it covers the rendering without it, taken chunk by chunk as
 * each is encoded, so a big snapshot is not read through once more.
 */
export async function renderSnapshot(format: SnapshotFormat, document: CheckpointDocument, sequence: number): Promise<Buffer> {
  const nonce = `@@checkpointer-items-${randomUUID()}-`;
  const lists: string[][] = [];
  const steps = Object.fromEntries(
    Object.entries(document.steps).map(([name, step]) => {
      lists.push(step.completedItems);
      return [name, { ...step, completedItems: `${nonce}${lists.length - 1}@@` }];
    }),
  );
  const { version, ...rest } = document;
  const skeleton = format.skeleton({ version, sequence, ...rest, steps });
  const parts: Uint8Array[] = [];
  let crc = 0;
  const add = (text: string | Uint8Array): void => {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    crc = continueCrc32(crc, bytes);
    parts.push(bytes);
  };
  const pattern = new RegExp(`["']?${nonce}(\\d+)@@["']?`, 'g');
  let last = 0;
  for (let match = pattern.exec(skeleton); match; match = pattern.exec(skeleton)) {
    const lineStart = skeleton.lastIndexOf('\n', match.index) + 1;
    const indent = /^\s*/.exec(skeleton.slice(lineStart, match.index))![0];
    add(skeleton.slice(last, match.index));
    const keys = lists[Number(match[1])]!;
    const count = Math.max(1, Math.ceil(keys.length / CHUNK));
    for (let chunk = 0; chunk < count; chunk++) {
      add(format.items(keys.slice(chunk * CHUNK, (chunk + 1) * CHUNK), indent, { first: chunk === 0, last: chunk === count - 1 }));
      if (count > 1) await yieldToEventLoop();
    }
    last = match.index + match[0].length;
  }
  add(skeleton.slice(last));
  const { offset, line } = format.checksumLine(formatChecksum(crc));
  const first = parts[0]!;
  parts.splice(0, 1, first.subarray(0, offset), Buffer.from(line), first.subarray(offset));
  return Buffer.concat(parts);
}

/**
 * Reads a snapshot from its bytes (`file` names it in errors): checks its checksum line if it has
 * one, parses it and validates the document.
 * @throws CheckpointCorruptError if it is not a valid checkpoint
 */
export function parseSnapshot(bytes: Buffer, format: SnapshotFormat, file: string): SnapshotContent {
  let text: string;
  try {
    // Fatal decoding: a byte that is not UTF-8 would otherwise become U+FFFD and silently change a key.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new CheckpointCorruptError(file, [{ path: '', message: 'contains bytes that are not UTF-8 text' }], { cause: error });
  }
  const found = format.findChecksum(text);
  if (found) verifyChecksum(file, bytes, found);
  let raw: unknown;
  try {
    raw = format.parse(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new CheckpointCorruptError(file, [{ path: '', message: `not valid ${format.name}: ${reason}` }], { cause: error });
  }
  if (isJsonObject(raw) && Object.hasOwn(raw, 'checksum')) {
    // Not a field of the document. When it is not the line the writer made (a program parsed
    // and re-serialised the file), the file was rewritten on purpose: it is read like a
    // hand-written one, without a check.
    const { checksum: _checksum, ...rest } = raw;
    raw = rest;
  }
  const counter = (name: 'sequence' | 'epoch'): number | undefined => {
    const value = isJsonObject(raw) ? raw[name] : undefined;
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
      throw new CheckpointCorruptError(file, [{ path: name, message: `expected a non-negative integer, got ${JSON.stringify(value)}` }]);
    }
    return value;
  };
  const sequence = counter('sequence') ?? 0;
  const epoch = counter('epoch');
  return { ...parseDocument(raw, file), sequence, ...(epoch === undefined ? {} : { epoch }) };
}

/**
 * A snapshot's checksum covers its bytes without the checksum line: any change to them — a
 * flipped digit that still parses, a file cut short — is found before the content is trusted.
 */
function verifyChecksum(file: string, bytes: Buffer, found: FoundChecksum): void {
  const crc = continueCrc32(continueCrc32(0, bytes.subarray(0, found.start)), bytes.subarray(found.end));
  if (formatChecksum(crc) === found.checksum) return;
  throw new CheckpointCorruptError(file, [{
    path: 'checksum',
    message: `the content does not match its checksum ${found.checksum} (it has ${formatChecksum(crc)}): the file was changed after it was written — if you edited it by hand, delete the checksum line`,
  }]);
}
