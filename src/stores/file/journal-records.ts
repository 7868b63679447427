import type { CheckpointChange, ItemStatus } from '../../core/model.js';

export interface JournalRecord {
  sequence: number;
  change: CheckpointChange;
}

/** The item statuses by the number {@link RecordColumns} keeps for each. */
export const ITEM_STATUSES = ['completed', 'pending', 'in_progress', 'failed', 'dead_letter'] as const satisfies readonly ItemStatus[];
/** In `#statuses`: the record is not a plain item mark, and its change is kept whole. */
const WHOLE = 255;

/**
 * The records of one journal file as they are read, in columns: a million plain item marks are a
 * few typed arrays and the keys, not millions of small objects that the garbage collector moves
 * again and again while the rest is read (which costs more than reading them). A record's change
 * object is made when it is asked for, and dropped once it is applied.
 */
export class RecordColumns {
  length = 0;
  #sequences: Float64Array<ArrayBuffer> = new Float64Array(64);
  #ats: Float64Array<ArrayBuffer> = new Float64Array(64);
  #attempts: Float64Array<ArrayBuffer> = new Float64Array(64);
  /** An index into ITEM_STATUSES, or WHOLE. */
  #statuses: Uint8Array<ArrayBuffer> = new Uint8Array(64);
  #steps: string[] = [];
  #keys: string[] = [];
  #whole = new Map<number, CheckpointChange>();

  /** Appends a plain item mark: no error, no result. */
  pushItem(sequence: number, step: string, key: string, status: number, attempts: number, at: number): void {
    const i = this.#room();
    this.#sequences[i] = sequence;
    this.#statuses[i] = status;
    this.#attempts[i] = attempts;
    this.#ats[i] = at;
    this.#steps.push(step);
    this.#keys.push(key);
  }

  /** Appends any change, kept as it is. */
  push(sequence: number, change: CheckpointChange): void {
    const i = this.#room();
    this.#sequences[i] = sequence;
    this.#statuses[i] = WHOLE;
    this.#whole.set(i, change);
    this.#steps.push('');
    this.#keys.push('');
  }

  sequence(i: number): number {
    return this.#sequences[i]!;
  }

  /** The change of record `i`: a new object for a plain item mark, which the caller may keep. */
  change(i: number): CheckpointChange {
    const status = this.#statuses[i]!;
    if (status === WHOLE) return this.#whole.get(i)!;
    return { op: 'item', step: this.#steps[i]!, key: this.#keys[i]!, status: ITEM_STATUSES[status]!, attempts: this.#attempts[i]!, at: this.#ats[i]! };
  }

  /** The index of the next record, the columns grown if they are full. */
  #room(): number {
    const i = this.length++;
    if (i === this.#sequences.length) {
      this.#sequences = grown(this.#sequences, new Float64Array(i * 2));
      this.#ats = grown(this.#ats, new Float64Array(i * 2));
      this.#attempts = grown(this.#attempts, new Float64Array(i * 2));
      this.#statuses = grown(this.#statuses, new Uint8Array(i * 2));
    }
    return i;
  }
}

/** `bigger` holding what `column` holds. */
function grown<Column extends Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(column: Column, bigger: Column): Column {
  bigger.set(column);
  return bigger;
}

/** The records `columns` holds from `from` on. */
interface Part {
  columns: RecordColumns;
  from: number;
}

/**
 * Records read from one or more journal files, in order, each sequence number once; iterating
 * makes each record's objects as it goes.
 */
export class JournalRecords implements Iterable<JournalRecord> {
  static readonly empty = new JournalRecords([]);

  readonly length: number;
  readonly #parts: readonly Part[];

  private constructor(parts: readonly Part[]) {
    this.#parts = parts.filter((part) => part.from < part.columns.length);
    this.length = this.#parts.reduce((sum, part) => sum + part.columns.length - part.from, 0);
  }

  static of(columns: RecordColumns): JournalRecords {
    return new JournalRecords([{ columns, from: 0 }]);
  }

  /**
   * The records of journals read one after another (each in order already), each sequence number
   * once: a record of a later journal that an earlier one holds too is left out.
   */
  static inSequence(lists: readonly JournalRecords[]): JournalRecords {
    const parts: Part[] = [];
    let last = 0;
    for (const list of lists) {
      for (const part of list.after(last).#parts) {
        parts.push(part);
        last = part.columns.sequence(part.columns.length - 1);
      }
    }
    return new JournalRecords(parts);
  }

  /** The sequence number of the first record, if any. */
  get firstSequence(): number | undefined {
    const part = this.#parts[0];
    return part && part.columns.sequence(part.from);
  }

  /** The sequence number of the last record, if any. */
  get lastSequence(): number | undefined {
    const part = this.#parts.at(-1);
    return part && part.columns.sequence(part.columns.length - 1);
  }

  /** The records whose sequence number is greater than `sequence`. */
  after(sequence: number): JournalRecords {
    if ((this.firstSequence ?? Infinity) > sequence) return this;
    return new JournalRecords(this.#parts.map(({ columns, from }) => ({ columns, from: firstAfter(columns, from, sequence) })));
  }

  /** The sequence numbers, in order. */
  sequences(): Iterable<number> {
    return { [Symbol.iterator]: () => this.#each((columns, i) => columns.sequence(i)) };
  }

  /** The changes, in order, each made as it is reached (as often as they are iterated). */
  changes(): Iterable<CheckpointChange> {
    return { [Symbol.iterator]: () => this.#each((columns, i) => columns.change(i)) };
  }

  [Symbol.iterator](): Iterator<JournalRecord> {
    return this.#each((columns, i) => ({ sequence: columns.sequence(i), change: columns.change(i) }));
  }

  *#each<T>(value: (columns: RecordColumns, i: number) => T): Generator<T> {
    for (const { columns, from } of this.#parts) for (let i = from; i < columns.length; i++) yield value(columns, i);
  }
}

/** The first index from `from` whose record's sequence number is greater than `sequence` (they increase). */
function firstAfter(columns: RecordColumns, from: number, sequence: number): number {
  let low = from;
  let high = columns.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (columns.sequence(middle) > sequence) high = middle;
    else low = middle + 1;
  }
  return low;
}
