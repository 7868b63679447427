import { CheckpointArgumentError, describeValue } from '../../core/errors.js';

/** The quoted, schema-qualified names of the store's tables, ready to put into SQL. */
export interface Tables {
  /** The schema as the user gave it. */
  readonly schema: string;
  /** The schema as an SQL identifier. */
  readonly quoted: string;
  readonly checkpoints: string;
  readonly steps: string;
  readonly items: string;
  readonly stages: string;
  readonly counters: string;
  readonly errors: string;
}

// Plain identifiers only: the name is put into SQL, so nothing that needs escaping gets there.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function tablesIn(schema: unknown): Tables {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new CheckpointArgumentError(
      `Expected \`schema\` to be a PostgreSQL identifier (letters, digits and _, at most 63 characters, not starting with a digit), got ${describeValue(schema)}`,
    );
  }
  const quoted = `"${schema}"`;
  const table = (name: string): string => `${quoted}.${name}`;
  return {
    schema,
    quoted,
    checkpoints: table('checkpoints'),
    steps: table('steps'),
    items: table('items'),
    stages: table('stages'),
    counters: table('counters'),
    errors: table('errors'),
  };
}
