import { resolve } from 'node:path';
import { CheckpointCorruptError, CheckpointError, describeProblem, type CheckpointErrorCode } from '../core/errors.js';
import { parseDocument } from '../core/schema.js';
import { CheckpointState } from '../core/state.js';
import { JournalRecords, readJournal, sealedJournals } from '../stores/file/journal.js';
import { findBackups, snapshotFormatFor } from '../stores/file/read-checkpoint.js';
import { readSnapshot, type ReadSnapshot } from '../stores/file/snapshot-file.js';
import { BUCKET_DAMAGE_HINT } from '../stores/object/read-object-checkpoint.js';
import type { Output } from './output.js';
import { databaseRepairHint, noCheckpointMessage, readDatabaseIfAny, type DatabaseTarget } from './postgres-target.js';
import { readObjectTarget, type ObjectTarget } from './object-target.js';

/** One thing wrong: which file, where in it, and what. */
export interface ValidationProblem {
  file: string;
  /** A place inside the file (`steps.enrich.completedItems[3]`, `line 12`), or '' for all of it. */
  where: string;
  message: string;
  /** `CHECKPOINT_CORRUPT`, or `CHECKPOINT_VERSION` for a file written by a newer checkpointer, … */
  code: CheckpointErrorCode;
}

/** What `checkpoint-resume validate --json` prints. */
export interface ValidationReport {
  location: string;
  /** 'JSON', 'YAML' or 'PostgreSQL'. */
  format: string;
  valid: boolean;
  problems: ValidationProblem[];
  /** Things that are not wrong but worth knowing: a torn journal tail, a damaged old backup. */
  warnings: string[];
  /** Present when the snapshot could be read. */
  summary: { steps: number; items: number; stages: number; journalChanges: number } | null;
  /** Backups that read as valid checkpoints, newest first: what `restore --backup N` can use (none in PostgreSQL). */
  goodBackups: { index: number; path: string }[];
  /** For a PostgreSQL checkpoint that is not valid: how to start over. */
  repair?: string;
}

function summarise(state: CheckpointState, journalChanges: number): NonNullable<ValidationReport['summary']> {
  let items = 0;
  for (const step of state.steps.values()) items += step.completed.size + [...step.items.values()].filter((record) => record.status !== 'completed').length;
  return { steps: state.steps.size, items, stages: state.stages.size, journalChanges };
}

/** Turns a read error into problems; anything that is not a checkpoint error is rethrown. */
function problemsOf(error: unknown, file: string): ValidationProblem[] {
  if (error instanceof CheckpointCorruptError) {
    return error.problems.map((problem) => ({ file: error.location, where: problem.path, message: problem.message, code: error.code }));
  }
  if (error instanceof CheckpointError) {
    return [{ file, where: '', message: error.message.replace(`${file}: `, ''), code: error.code }];
  }
  throw error;
}

/**
 * Checks a file checkpoint without changing it: the snapshot against the schema, every journal
 * record's checksum and order, that no records are missing between the snapshot and the
 * journal, that replaying the journal gives a valid checkpoint, and which backups are good.
 */
export async function validateCheckpoint(location: string): Promise<ValidationReport> {
  const format = snapshotFormatFor(location);
  const file = resolve(location);
  const problems: ValidationProblem[] = [];
  const warnings: string[] = [];

  const journalPath = `${file}.journal`;
  const sealed = sealedJournals(journalPath);
  if (sealed.length) warnings.push(`${sealed.length} sealed journal(s) left by an unfinished compaction; they are folded in on the next open`);
  const journals: JournalRecords[] = [];
  for (const journal of [...sealed, journalPath]) {
    try {
      const read = await readJournal(journal);
      journals.push(read.records);
      if (read.tornLines) warnings.push(`${journal}: ${read.tornLines} damaged line(s) at the end (a write cut short by a crash); they are dropped on the next open`);
    } catch (error) {
      problems.push(...problemsOf(error, journal));
    }
  }

  // Each sequence number once, as an open reads them (a crash can leave a record in a sealed journal and the journal both).
  const records = JournalRecords.inSequence(journals);
  let snapshot: ReadSnapshot | undefined;
  try {
    snapshot = await readSnapshot(file, format);
    if (!snapshot) {
      const message = records.length ? 'missing, but its journal exists' : findBackups(location).length ? 'missing, but its backups are still there' : 'no checkpoint here (no such file)';
      problems.push({ file: location, where: '', message, code: 'CHECKPOINT_CORRUPT' });
    }
  } catch (error) {
    problems.push(...problemsOf(error, file).map((problem) => ({ ...problem, file: problem.file === file ? location : problem.file })));
  }

  let summary: ValidationReport['summary'] = null;
  if (snapshot) {
    const newer = records.after(snapshot.content.sequence);
    let expected = snapshot.content.sequence + 1;
    for (const record of newer) {
      if (record.sequence !== expected) {
        const message = `records ${expected}…${record.sequence - 1} are missing (the snapshot covers up to ${snapshot.content.sequence})`;
        problems.push({ file: `${location}.journal`, where: '', message, code: 'CHECKPOINT_CORRUPT' });
        break;
      }
      expected++;
    }
    const { sequence: _sequence, ...document } = snapshot.content;
    const state = CheckpointState.fromDocument(document, Math.max(100, document.errors.length));
    for (const record of newer) state.apply(record.change);
    try {
      parseDocument(state.toDocument(), `${location} (after replaying its journal)`);
    } catch (error) {
      problems.push(...problemsOf(error, location));
    }
    summary = summarise(state, newer.length);
  }

  const goodBackups: ValidationReport['goodBackups'] = [];
  for (const backup of findBackups(location)) {
    try {
      if (await readSnapshot(backup.path, format)) goodBackups.push(backup);
    } catch (error) {
      const first = error instanceof CheckpointCorruptError ? error.problems[0] : undefined;
      warnings.push(`backup ${backup.path} is damaged${first ? `: ${describeProblem(first)}` : ''}`);
    }
  }
  return { location, format: format.name, valid: problems.length === 0, problems, warnings, summary, goodBackups };
}

/**
 * Checks a PostgreSQL checkpoint without changing it: its rows read as a checkpoint that matches
 * the schema, also once loaded into the in-memory model. No tables are created, no locks taken.
 */
export async function validateDatabase(target: DatabaseTarget): Promise<ValidationReport> {
  const report = (location: string, problems: ValidationProblem[], summary: ValidationReport['summary'], damaged = problems.length > 0): ValidationReport => ({
    location,
    format: 'PostgreSQL',
    valid: problems.length === 0,
    problems,
    warnings: [],
    summary,
    goodBackups: [],
    ...(damaged ? { repair: databaseRepairHint(target) } : {}),
  });
  let read;
  try {
    read = await readDatabaseIfAny(target);
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError)) throw error;
    return report(error.location, problemsOf(error, error.location), null);
  }
  const { location, document } = read;
  if (!document) return report(location, [{ file: location, where: '', message: noCheckpointMessage(target), code: 'CHECKPOINT_CORRUPT' }], null, false);
  const state = CheckpointState.fromDocument(document, Math.max(100, document.errors.length));
  try {
    parseDocument(state.toDocument(), `${location} (as loaded)`);
  } catch (error) {
    return report(location, problemsOf(error, location), null);
  }
  return report(location, [], summarise(state, 0));
}

/**
 * Checks a checkpoint in a bucket without changing it or taking its lease: the snapshot object
 * against the schema and its checksum (or its backup's, when it is damaged), every segment that
 * continues it (whole, checksummed, no change missing), and the state they add up to.
 */
export async function validateObject(target: ObjectTarget): Promise<ValidationReport> {
  const location = target.url;
  const report = (format: string, problems: ValidationProblem[], summary: ValidationReport['summary'], goodBackups: ValidationReport['goodBackups'] = [], repair = BUCKET_DAMAGE_HINT): ValidationReport => ({
    location, format, valid: problems.length === 0, problems, warnings: [], summary, goodBackups, ...(problems.length > 0 ? { repair } : {}),
  });
  const format = /\.json$/i.test(location) ? 'JSON' : 'YAML';
  let read;
  try {
    read = await readObjectTarget(target);
  } catch (error) {
    // A store error (no credentials, the bucket unreachable) is not a finding about the checkpoint.
    if (!(error instanceof CheckpointCorruptError)) throw error;
    // A damaged lease keeps every run out, though the checkpoint itself is whole.
    const lease = error.location.endsWith('.lease') ? `if no process is running on this checkpoint, delete ${error.location} and open it again` : undefined;
    return report(format, problemsOf(error, location), null, [], lease);
  }
  const { state, read: found } = read;
  const problems: ValidationProblem[] = [];
  try {
    parseDocument(state.toDocument(), `${location} (after reading its segments)`);
  } catch (error) {
    problems.push(...problemsOf(error, location));
  }
  const summary = summarise(state, found.records.length);
  if (!found.recovered) return report(read.format, problems, summary);
  const backup = found.recovered.from;
  problems.unshift(...found.recovered.problems.map((problem) => ({ file: location, where: problem.path, message: problem.message, code: 'CHECKPOINT_CORRUPT' as const })));
  return report(read.format, problems, summary, [{ index: 0, path: backup }], `its backup ${backup} is good: a pipeline that opens the checkpoint recovers from it and says what was lost (download the damaged snapshot first to keep it)`);
}

export function printValidation(report: ValidationReport, out: Output): void {
  const { style } = out;
  const database = report.format === 'PostgreSQL';
  const bucket = /^(az|s3|gs):\/\//i.test(report.location);
  if (report.valid) {
    const s = report.summary!;
    const files = database ? '' : bucket ? `, ${s.journalChanges} change(s) in segments not yet compacted` : `, ${s.journalChanges} journal change(s) not yet compacted, ${report.goodBackups.length} good backup(s)`;
    out.line(`${style.green('valid')}: ${report.location} — ${s.steps} step(s), ${s.items} item(s), ${s.stages} stage(s)${files}`);
  } else {
    out.line(`${style.red('INVALID')}: ${report.location}`);
    for (const problem of report.problems) {
      out.line(`  ${problem.file}: ${problem.where ? `${style.bold(problem.where)}: ` : ''}${problem.message}`);
    }
  }
  for (const warning of report.warnings) out.line(`${style.yellow('warning')}: ${warning}`);
  if (!report.valid && report.repair) out.line(`${report.repair.charAt(0).toUpperCase()}${report.repair.slice(1)}.`);
  // A newer format is not damage: the advice is to upgrade, which the problem already says.
  else if (!report.valid && !database && report.problems.some((problem) => problem.code !== 'CHECKPOINT_VERSION')) {
    const backup = report.goodBackups[0];
    out.line(
      backup
        ? `A good backup exists: ${backup.path} — restore it with "checkpoint-resume restore ${report.location} --backup ${backup.index}"`
        : 'No good backup exists; move the damaged files aside to start over (or open with { onCorrupt: \'restart\' }).',
    );
  }
}
