import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { strFromU8, unzipSync } from 'fflate';
import { downloadBytes, fillSettings, loadSmallDemo } from './helpers';
import { parseArgs } from '../../src/cli/args';
import { OPTIONS, PROG } from '../../src/cli/study';

test('Run on a cluster: the zip\'s scripts pass bash -n and run the CLI with the on-screen filters and settings', async ({ page }) => {
  await loadSmallDemo(page);
  const dose = page.getByLabel('Dose');
  await dose.selectOption({ index: 2 });
  const doseValue = Number(await dose.inputValue());
  await page.getByLabel('View').selectOption('dense');
  await fillSettings(page, { epochs: 3, groups: 24, batch: 8, filterScale: 0.5 });
  const selected = page.getByTestId('job-table').locator('tbody tr[data-job]:not(.off)');
  await expect(selected).toHaveCount(1);

  const { name, bytes } = await downloadBytes(page, () => page.getByTestId('cluster-zip').click());
  expect(name).toBe('ptychopinn-cluster.zip');
  const files = unzipSync(bytes);
  const text = (f: string) => strFromU8(files[`ptychopinn-cluster/${f}`]);
  expect(text('README.txt')).toContain('1 training job(s)');

  const dir = mkdtempSync(`${tmpdir()}/cluster-zip-`);
  try {
    const stub = `${dir}/node`;
    writeFileSync(stub, '#!/bin/bash\nprintf "%s\\0" "$@" > "$STUB_OUT"\n');
    chmodSync(stub, 0o755);
    for (const f of ['train.sbatch', 'merge.sbatch']) {
      writeFileSync(`${dir}/${f}`, text(f));
      expect(spawnSync('bash', ['-n', `${dir}/${f}`]).status, `${f} passes bash -n`).toBe(0);
    }
    expect(text('train.sbatch')).toContain('#SBATCH --array=0\n');
    const sed = text('README.txt').split('\n').find((l) => l.trim().startsWith('sed -i'))!;
    expect(spawnSync('bash', ['-c', sed], { cwd: dir }).status).toBe(0);
    const out = `${dir}/argv`;
    const r = spawnSync('bash', [`${dir}/train.sbatch`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE: stub, STUB_OUT: out, SLURM_ARRAY_TASK_ID: '0' } });
    expect(r.status, r.stderr).toBe(0);
    const argv = readFileSync(out, 'utf8').split('\0').slice(0, -1).slice(2); // after tsx's cli.mjs and study.ts
    const parsed = parseArgs(argv, OPTIONS, PROG);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.values).toMatchObject({
        dose: doseValue, view: 'dense', gridsize: null, dry_run: false,
        nepochs: 3, n_groups: 24, batch_size: 8, n_filters_scale: 0.5, job_index: 0,
        phase_c_root: '/data/phase_c', phase_d_root: '/data/phase_d', artifact_root: '/scratch/study_artifacts',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
