import { existsSync, openAsBlob, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PlanInputFile } from '../../../src/lib/study/plan';

/** The numpy-written trees of test/fixtures/study/make_tree.py. */
export const TREES = fileURLToPath(new URL('../../fixtures/study/trees/', import.meta.url));

/** Every file under a tree, as relative POSIX paths (what a folder picker would give), optionally prefixed. */
export function treePaths(name: string): string[] {
  const root = `${TREES}${name}`;
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir).sort()) {
      const full = `${dir}/${e}`;
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(full).isDirectory()) walk(full, r);
      else out.push(r);
    }
  };
  walk(root, '');
  return out;
}

export async function loadTree(name: string, prefix = ''): Promise<PlanInputFile[]> {
  return Promise.all(treePaths(name).map(async (p) => ({
    path: prefix + p,
    blob: await openAsBlob(`${TREES}${name}/${p}`),
  })));
}

/** Debian's python3 with numpy (the first python3 on PATH may lack it). */
export const PYTHON = '/usr/bin/python3';
export const havePython = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import json'], { encoding: 'utf8' }).status === 0;

export function runPython(code: string, input?: string): string {
  const r = spawnSync(PYTHON, ['-c', code], { input, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}
