import { z } from 'zod';
import { CheckpointArgumentError, CheckpointCorruptError, CheckpointVersionError, type CorruptionProblem } from './errors.js';
import { isJsonObject, type JsonValue } from './json.js';
import { migrations } from './migrations.js';
import { escapeProtoKeys, unescapeProtoKeys } from './own-keys.js';
import {
  FORMAT_VERSION,
  type CheckpointChange,
  type CheckpointDocument,
  type ItemStatus,
} from './model.js';

const json = z.json();
const jsonObject = z.record(z.string(), json);
const isoTime = z.string().max(64);
const name = z.string().min(1).max(1024);

const kindOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/**
 * A list of item keys, checked where it stands: `z.array(z.string())` would copy it, and the
 * lists of a big checkpoint hold millions of keys. Problems read like zod's own.
 */
const keyList = z.custom<string[]>().superRefine((value, context) => {
  if (!Array.isArray(value)) {
    context.addIssue({ code: 'custom', message: `expected array, received ${kindOf(value)}` });
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const key: unknown = value[i];
    if (typeof key !== 'string') context.addIssue({ code: 'custom', path: [i], message: `expected string, received ${kindOf(key)}` });
  }
});

const errorInfo = z.object({
  message: z.string(),
  name: z.string().optional(),
  stack: z.string().optional(),
});

const itemDetail = z.object({
  key: z.string(),
  attempts: z.number().int().nonnegative(),
  error: errorInfo.optional(),
  updatedAt: isoTime.optional(),
  result: json.optional(),
});

const stepSummary = z.object({
  status: z.enum(['pending', 'running', 'completed', 'failed']),
  startedAt: isoTime.optional(),
  endedAt: isoTime.optional(),
  durationMs: z.number().nonnegative().optional(),
  attempts: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  group: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  metadata: jsonObject.optional(),
  result: json.optional(),
});

const metadata = z.object({
  pipeline: z.string().optional(),
  runId: z.string().min(1),
  createdAt: isoTime,
  updatedAt: isoTime,
  configFingerprint: z.string().optional(),
  config: json.optional(),
});

const documentSchema = z.object({
  version: z.literal(FORMAT_VERSION),
  metadata,
  steps: z.record(name, z.object({
    total: z.number().int().nonnegative().optional(),
    completedItems: keyList,
    failedItems: z.array(itemDetail).optional(),
    inProgressItems: z.array(itemDetail).optional(),
    pendingItems: z.array(itemDetail).optional(),
    deadLetterItems: z.array(itemDetail).optional(),
    completedDetails: z.array(itemDetail).optional(),
    summary: stepSummary.optional(),
    recentCompletions: z.array(z.tuple([z.number(), z.number().int().nonnegative()])).max(64).optional(),
  })),
  stages: z.array(z.object({ name, completedAt: isoTime, result: json.optional() })),
  context: jsonObject,
  counters: z.record(z.string(), z.number()),
  errors: z.array(z.object({
    at: isoTime,
    message: z.string(),
    name: z.string().optional(),
    step: z.string().optional(),
    key: z.string().optional(),
  })),
});

const itemStatus = z.enum(['pending', 'in_progress', 'completed', 'failed', 'dead_letter'] satisfies ItemStatus[]);

const changeSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('item'),
    step: name,
    key: z.string(),
    status: itemStatus,
    attempts: z.number().int().nonnegative(),
    at: z.number(),
    error: errorInfo.optional(),
    result: json.optional(),
  }),
  z.object({ op: z.literal('step'), step: name, summary: stepSummary }),
  z.object({ op: z.literal('stage'), stage: name, at: z.number(), result: json.optional() }),
  z.object({ op: z.literal('context'), context: jsonObject }),
  z.object({ op: z.literal('counter'), name: z.string(), value: z.number() }),
  z.object({ op: z.literal('total'), step: name, total: z.number().int().nonnegative().nullable() }),
  z.object({ op: z.literal('resetStep'), step: name, at: z.number().optional() }),
  z.object({ op: z.literal('retryFailed'), step: name.optional(), at: z.number().optional() }),
  z.object({ op: z.literal('resetAll'), at: z.number().optional() }),
  z.object({ op: z.literal('metadata'), metadata }),
]);

/** Formats a zod issue path as JavaScript accessors: `steps.enrich.completedItems[3]`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const text = String(part);
      out += /^[A-Za-z_$][\w$]*$/.test(text) ? (out ? `.${text}` : text) : `[${JSON.stringify(text)}]`;
    }
  }
  return out;
}

function problemsOf(error: z.ZodError): CorruptionProblem[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path.map((part) => (typeof part === 'string' ? part.replace(/^\u0000/, '') : part))),
    message: issue.message.replace(/^Invalid input: /, ''),
  }));
}

/**
 * Validates (and migrates, if old) a parsed checkpoint document. `file` names it in errors.
 * @throws CheckpointCorruptError if the content is not a checkpoint
 * @throws CheckpointVersionError if it was written by a newer format version
 */
export function parseDocument(raw: unknown, file: string): CheckpointDocument {
  try {
    return validateDocument(raw, file);
  } catch (error) {
    throw asCorrupt(error, file);
  }
}

/**
 * Content nested deeply enough to overflow the validator's stack, or a legacy item that cannot
 * be keyed, is damaged content like any other: report it as such, not as a crash.
 */
function asCorrupt(error: unknown, file: string): unknown {
  if (error instanceof RangeError) {
    return new CheckpointCorruptError(file, [{ path: '', message: 'nested too deeply to be a checkpoint' }], { cause: error });
  }
  if (error instanceof CheckpointArgumentError) {
    return new CheckpointCorruptError(file, [{ path: '', message: error.message }], { cause: error });
  }
  return error;
}

/** Runs the zod schema, keeping `__proto__` keys as own properties (see own-keys.ts). */
function validate<T>(schema: z.ZodType<T>, raw: unknown): z.ZodSafeParseResult<T> {
  const escaped = escapeProtoKeys(raw);
  const result = schema.safeParse(escaped.value);
  if (result.success && escaped.escaped) result.data = unescapeProtoKeys(result.data);
  return result;
}

function validateDocument(raw: unknown, file: string): CheckpointDocument {
  if (!isJsonObject(raw)) {
    throw new CheckpointCorruptError(file, [{ path: '', message: 'expected a JSON object at the top level' }]);
  }
  let version = typeof raw.version === 'number' ? raw.version : 0;
  if (!Number.isInteger(version) || version < 0) {
    throw new CheckpointCorruptError(file, [{ path: 'version', message: `expected a format version, got ${String(raw.version)}` }]);
  }
  if (version > FORMAT_VERSION) throw new CheckpointVersionError(file, version, FORMAT_VERSION);
  let migrated: JsonValue = raw;
  for (; version < FORMAT_VERSION; version++) {
    const migrate = migrations[version];
    if (!migrate) {
      throw new CheckpointCorruptError(file, [{ path: 'version', message: `no migration from format version ${version}` }]);
    }
    migrated = migrate(migrated as never, file);
  }
  const result = validate(documentSchema, migrated);
  if (!result.success) throw new CheckpointCorruptError(file, problemsOf(result.error));
  return result.data as CheckpointDocument;
}

/**
 * Validates one stored change (a journal record or a row).
 * @throws CheckpointCorruptError naming `where` (e.g. `pipeline.json.journal line 12`)
 */
export function parseChange(raw: unknown, where: string): CheckpointChange {
  let result;
  try {
    result = validate(changeSchema, raw);
  } catch (error) {
    throw asCorrupt(error, where);
  }
  if (!result.success) throw new CheckpointCorruptError(where, problemsOf(result.error));
  return result.data as CheckpointChange;
}
