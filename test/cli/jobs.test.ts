/**
 * `--jobs K` (src/cli/job-slot.ts, src/lib/pipeline/pool.ts): the CLI trains jobs side by side, one
 * worker thread each, through the same run loop, and writes the same manifest as one at a time,
 * apart from timings. Runs the real CLI (tsx) on the small demo study, one epoch a job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoStudy } from '../../src/lib/sim';
import { manifestDifferences } from '../../src/lib/report/manifest-compare';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${REPO}node_modules/.bin/tsx`;
const CLI = `${REPO}src/cli/study.ts`;
const tmp = mkdtempSync(join(tmpdir(), 'jobs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The manifest with its artifact root written as <root>, so two roots compare equal. */
function rooted(v: unknown, root: string): unknown {
  if (Array.isArray(v)) return v.map((x) => rooted(x, root));
  if (typeof v === 'string') return v.replaceAll(root, '<root>');
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rooted(x, root)]));
}

function study(root: string, jobs: number) {
  const r = spawnSync(TSX, [CLI, '--phase-c-root', join(tmp, 'demo/phase_c'), '--phase-d-root', join(tmp, 'demo/phase_d'),
    '--artifact-root', root, '--dose', '1e5', '--nepochs', '1', '--n-groups', '16', '--n-filters-scale', '0.25',
    '--batch-size', '4', '--jobs', String(jobs)], { encoding: 'utf8', timeout: 240_000 });
  return { ...r, manifest: r.status === 0 ? JSON.parse(readFileSync(join(root, 'training_manifest.json'), 'utf8')) as Record<string, unknown> : null };
}

describe('study --jobs K', () => {
  it('trains the jobs two at a time in threads and writes the manifest of one at a time, apart from timings', async () => {
    const demo = await makeDemoStudy('small', { timestamp: '2026-01-01T00:00:00Z' });
    for (const f of demo.files) {
      const p = join(tmp, 'demo', f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.bytes);
    }
    const one = study(join(tmp, 'k1'), 1);
    const two = study(join(tmp, 'k2'), 2);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toContain('Executing 3 training job(s)... (2 at once, one thread each)');
    expect(one.stdout).not.toContain('at once');
    // the second job starts before the first ends: they ran side by side
    const lines = two.stdout.split('\n');
    const start2 = lines.findIndex((l) => l.includes('[2/3] dense'));
    const end1 = lines.findIndex((l) => l.includes('Bundle [baseline/'));
    expect(start2, two.stdout).toBeGreaterThan(0);
    expect(start2, two.stdout).toBeLessThan(end1);
    const m1 = one.manifest!;
    const m2 = two.manifest!;
    expect((m2.jobs as { result: { status: string } }[]).map((j) => j.result.status)).toEqual(['success', 'success', 'success']);
    expect(manifestDifferences(rooted(m2, join(tmp, 'k2')), rooted(m1, join(tmp, 'k1')))).toEqual([]);
    for (const name of ['dose_100000/dense/gs2/params.json', 'study_summary.csv']) {
      expect(readFileSync(join(tmp, 'k2', name), 'utf8').replaceAll(join(tmp, 'k2'), '')).toBe(
        readFileSync(join(tmp, 'k1', name), 'utf8').replaceAll(join(tmp, 'k1'), ''));
    }
  }, 600_000);

  it('refuses --jobs 0', () => {
    const r = study(join(tmp, 'k0'), 0);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('argument --jobs: must be a whole number of at least 1, got 0');
  }, 120_000);
});
