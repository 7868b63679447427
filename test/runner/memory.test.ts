import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./children/stream-items.ts', import.meta.url));
const run = promisify(execFile);

describe('forEach over an async iterable', () => {
  it('streams a million items in bounded memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-stream-'));
    try {
      const items = 1_000_000;
      const bytes = 512;
      // The heap is capped well below the input's size (1M × 512 B ≈ 490 MiB): a runner that held
      // the input, or read it far ahead, would run out of memory instead of finishing.
      const { stdout } = await run(
        process.execPath,
        ['--expose-gc', '--max-old-space-size=192', '--import', 'tsx', child, join(dir, 'checkpoint.json'), String(items), String(bytes)],
        { maxBuffer: 1 << 20 },
      );
      const result = JSON.parse(stdout) as { report: { completed: number; failed: number; skipped: number }; growth: number; peak: number };
      expect(result.report).toMatchObject({ completed: items, failed: 0, skipped: 0 });
      // What stays is the checkpoint's own record of a million completed keys (~45 bytes each),
      // not the items: growth per item is a small fraction of one item's payload.
      expect(result.growth / items).toBeLessThan(bytes / 4);
      expect(result.peak).toBeLessThan(160 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
