import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { itemKey } from '../../src/core/item-key.js';
import { parseDocument } from '../../src/core/schema.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';

const fixture = (name: string): string => join(import.meta.dirname, '..', 'fixtures', 'legacy', name);
const readJson = (name: string): unknown => JSON.parse(readFileSync(fixture(name), 'utf8'));
const quiet = { warn: () => {}, error: () => {} };

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** Copies a legacy fixture to a fresh directory as the checkpoint file. */
function checkpointFrom(name: string, as: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-legacy-'));
  directories.push(directory);
  const file = join(directory, as);
  copyFileSync(fixture(name), file);
  return file;
}

describe('format 0 (legacy seed files) migrates to format 1', () => {
  it('per-step item lists (completed_items / failed_items / in_progress_items)', () => {
    const document = parseDocument(readJson('seed-000-item-steps.json'), 'f');
    expect(document.version).toBe(1);
    expect(document.metadata).toMatchObject({ pipeline: 'FRI_LEVEL', createdAt: '2025-01-01T12:00:00', updatedAt: '2025-01-01T13:00:00' });
    expect(document.metadata.runId).toMatch(/\S/);
    expect(Object.keys(document.steps)).toEqual(['enrich_data', 'preprocessing', 'model_generation']);
    expect(document.steps['enrich_data']).toEqual({
      completedItems: ['{"id":1,"name":"alpha"}', '{"id":2,"name":"beta"}', 'plain-string-item'],
      failedItems: [{ key: '{"id":3,"name":"gamma"}', attempts: 1 }],
      pendingItems: [{ key: '{"id":4,"name":"delta"}', attempts: 1 }],
    });
    expect(document.steps['preprocessing']?.completedItems).toEqual([]);
  });

  it('a seed-000 file resumes: completed items skipped, failed retried, in-progress pending', async () => {
    const path = checkpointFrom('seed-000-item-steps.json', 'pipeline_checkpoint.json');
    const cp = await CheckpointManager.open({ path, pipeline: 'FRI_LEVEL', logger: quiet });
    const items = [{ name: 'alpha', id: 1 }, { id: 2, name: 'beta' }, { id: 3, name: 'gamma' }, { id: 4, name: 'delta' }, { id: 5, name: 'new' }];
    expect(cp.pendingItems('enrich_data', items).map((item) => item.id)).toEqual([3, 4, 5]);
    expect(cp.getItemStatus('enrich_data', { id: 3, name: 'gamma' })).toBe('failed');
    expect(cp.getItemStatus('enrich_data', { id: 4, name: 'delta' })).toBe('pending');
    expect(cp.isItemCompleted('model_generation', { id: 1, name: 'alpha' })).toBe(true);
    await cp.markItemCompleted('enrich_data', { id: 5, name: 'new' });
    await cp.close();
    // The first compaction writes format 1; the legacy file is kept as the backup.
    expect((JSON.parse(readFileSync(path, 'utf8')) as { version: number }).version).toBe(1);
    expect(JSON.parse(readFileSync(`${path}.bak`, 'utf8'))).toEqual(readJson('seed-000-item-steps.json'));
    const again = await CheckpointManager.open({ path, pipeline: 'FRI_LEVEL', logger: quiet });
    expect(again.runId).toBe(cp.runId);
    expect(again.isItemCompleted('enrich_data', { id: 5, name: 'new' })).toBe(true);
    await again.close();
  });

  it('completed stages with a config snapshot', () => {
    const document = parseDocument(readJson('seed-001-stages.json'), 'f');
    expect(document.stages).toEqual([
      { name: 'pull_repo_exts', completedAt: '2025-10-28T23:46:10.577567' },
      { name: 'preparation', completedAt: '2025-10-28T23:46:10.577567' },
      { name: 'extension_data', completedAt: '2025-10-28T23:46:10.577567' },
    ]);
    expect(document.metadata.config).toEqual({ kit_cache_path: '/path/to/extscache', kit_version: '107.3.0', work_dir: '/path/to/work' });
    expect(document.metadata.createdAt).toBe('2025-10-28T23:46:10.577567');
    expect(document.steps).toEqual({});
  });

  it('completed steps with their summaries, the run guid and the context', () => {
    const document = parseDocument(readJson('seed-002-pipeline-steps.json'), 'f');
    expect(document.metadata).toMatchObject({ pipeline: 'train_pipeline', runId: '5f0c6c1e-2b1a-4c55-9d8e-6f1f2d3c4b5a', createdAt: '2025-01-20T10:30:00.000Z' });
    expect(document.steps['step1']).toEqual({
      completedItems: [],
      summary: { status: 'completed', startedAt: '2025-01-20T10:30:00.000Z', endedAt: '2025-01-20T10:31:00.000Z', metadata: { frames: 3 } },
    });
    expect(document.steps['step2']?.summary?.status).toBe('completed');
    expect(document.context).toEqual({ video_path: 'path/to/video.mp4', video_guid: 'video-uuid', frames_data: [1, 2, 3], crops_in_memory: { a: 1 } });
  });

  it('a seed-002 file opens with its run id and step summaries', async () => {
    const path = checkpointFrom('seed-002-pipeline-steps.json', '.pipeline_checkpoint.json');
    const cp = await CheckpointManager.open({ path, pipeline: 'train_pipeline', logger: quiet });
    expect(cp.runId).toBe('5f0c6c1e-2b1a-4c55-9d8e-6f1f2d3c4b5a');
    expect(cp.getStepSummary('step1')?.status).toBe('completed');
    expect(cp.context['video_guid']).toBe('video-uuid');
    await cp.close();
  });

  it('the YAML state file: completed_stages, <stage>_result and lists of files', () => {
    const document = parseDocument(parse(readFileSync(fixture('seed-004-pipeline-state.yaml'), 'utf8')), 'f');
    expect(document.stages.map((stage) => stage.name)).toEqual(['download_audio', 'isolate_speakers']);
    expect(document.stages[0]?.result).toEqual({ files: 2 });
    expect(document.stages[1]?.result).toBe(undefined);
    expect(document.steps['downloaded_files']?.completedItems).toEqual(['/path/to/audio1.wav', '/path/to/audio2.wav']);
    expect(document.steps['isolated_files']?.completedItems).toEqual(['/path/to/isolated1.wav', '/path/to/isolated2.wav']);
  });

  it('a seed-004 YAML file resumes file by file through YamlFileStore', async () => {
    const path = checkpointFrom('seed-004-pipeline-state.yaml', 'pipeline_state.yaml');
    const cp = await CheckpointManager.open({ path, logger: quiet });
    expect(cp.isStageCompleted('isolate_speakers')).toBe(true);
    expect(cp.isStageCompleted('enhance_audio')).toBe(false);
    expect(cp.getStageResult('download_audio')).toEqual({ files: 2 });
    expect(cp.pendingItems('downloaded_files', ['/path/to/audio1.wav', '/path/to/audio3.wav'])).toEqual(['/path/to/audio3.wav']);
    await cp.markStageCompleted('enhance_audio');
    await cp.close();
    const saved = parse(readFileSync(path, 'utf8')) as { version: number; stages: { name: string }[] };
    expect(saved.version).toBe(1);
    expect(saved.stages.map((stage) => stage.name)).toEqual(['download_audio', 'isolate_speakers', 'enhance_audio']);
  });

  it('legacy items are keyed like new ones, so old and new code agree', () => {
    const document = parseDocument({ steps: { s: { completed_items: [{ b: 1, a: [2] }, 7, 'x'] } } }, 'f');
    expect(document.steps['s']?.completedItems).toEqual([itemKey({ a: [2], b: 1 }), itemKey(7), 'x']);
  });
});
