/**
 * The tree's one-way rule (README "Development", layout): src/ui may import from src/workers and
 * src/lib; src/workers from src/lib; src/lib from neither. A wrong-way import fails here, naming the
 * file, the line and the specifier. Inside src/lib, the model never imports a backend's kernels or its
 * start-up (src/lib/runtime owns them).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string, pattern = /\.(ts|svelte)$/): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p, pattern));
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

/** Relative import specifiers of a file (static imports, re-exports, dynamic imports, new URL workers), with their line numbers. */
function relativeImports(text: string): { line: number; spec: string }[] {
  const out: { line: number; spec: string }[] = [];
  const lines = text.split('\n');
  const patterns = [/\bfrom\s+['"](\.[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g, /\bimport\s+['"](\.[^'"]+)['"]/g, /new URL\(\s*['"](\.[^'"]+)['"]/g];
  lines.forEach((l, i) => {
    for (const re of patterns) for (const m of l.matchAll(re)) out.push({ line: i + 1, spec: m[1] });
  });
  return out;
}

/**
 * The wrong-way imports under `from` that land in any of `forbidden`: folders relative to the root,
 * or a test of the target's path relative to the root, without its .ts/.js extension.
 */
function wrongWay(from: string, forbidden: string[] | ((target: string) => boolean)): string[] {
  const hits = typeof forbidden === 'function' ? forbidden : (t: string) => forbidden.some((f) => t === f || t.startsWith(f + '/'));
  const bad: string[] = [];
  for (const file of sources(join(ROOT, from))) {
    for (const { line, spec } of relativeImports(readFileSync(file, 'utf8'))) {
      const target = relative(ROOT, resolve(dirname(file), spec)).replace(/\.(ts|js)$/, '');
      if (hits(target)) bad.push(`${relative(ROOT, file)}:${line} imports '${spec}' (${target})`);
    }
  }
  return bad;
}

describe('imports go one way: ui -> workers -> lib', () => {
  it('the scanner finds the import forms the tree uses', () => {
    const found = relativeImports(
      "import { a } from '../ui/x';\nexport * from \"./y\";\nconst m = await import('../workers/z');\nnew Worker(new URL('../workers/w.ts', import.meta.url));\nimport './side';",
    ).map((i) => i.spec);
    expect(found).toEqual(['../ui/x', './y', '../workers/z', '../workers/w.ts', './side']);
  });

  it('nothing under src/lib imports from src/ui or src/workers', () => {
    expect(wrongWay('src/lib', ['src/ui', 'src/workers'])).toEqual([]);
  });

  it('nothing under src/workers imports from src/ui', () => {
    expect(wrongWay('src/workers', ['src/ui'])).toEqual([]);
  });
});

describe('src/lib/runtime owns the backends; the model never asks which one it runs on', () => {
  /** Our kernels, their installer and the Node start-up: src/lib/runtime/kernels, *-kernels, webgpu-*, node-backend. */
  const backendOwned = (t: string) => /^src\/lib\/runtime\/(kernels|[\w-]+-kernels|webgpu-[\w-]+|node-backend)$/.test(t);

  it('the rule sees the backend-owned files', () => {
    for (const t of ['src/lib/runtime/kernels', 'src/lib/runtime/cpu-kernels', 'src/lib/runtime/wasm-kernels', 'src/lib/runtime/webgpu-kernels', 'src/lib/runtime/webgpu-conv', 'src/lib/runtime/node-backend']) {
      expect(backendOwned(t), t).toBe(true);
    }
    expect(backendOwned('src/lib/runtime/choose')).toBe(false);
  });

  it('nothing under src/lib/model imports our kernels or the Node start-up', () => {
    expect(wrongWay('src/lib/model', backendOwned)).toEqual([]);
  });

  it('src/lib/runtime imports the model only in the bench\'s step profiler (webgpu-profile.ts)', () => {
    const bad = wrongWay('src/lib/runtime', ['src/lib/model']).filter((b) => !b.startsWith('src/lib/runtime/webgpu-profile.ts:'));
    expect(bad).toEqual([]);
  });
});

describe('the training path has one run loop (src/lib/pipeline/run.ts)', () => {
  const worker = readFileSync(join(ROOT, 'src/workers/train.worker.ts'), 'utf8');

  it('the train worker is a shell: under 120 lines, no loop over jobs, and it calls runStudy', () => {
    expect(worker.split('\n').length).toBeLessThan(120);
    // a loop statement over anything (the jobs are the run loop's to iterate)
    const loops = worker.split('\n').map((l, i) => [i + 1, l] as const).filter(([, l]) => /^\s*(for|while)\s*\(/.test(l) || /\bfor\s*\(/.test(l.replace(/\/\/.*$/, '')));
    expect(loops).toEqual([]);
    expect(worker).toMatch(/\brunStudy\(/);
  });

  it('the app, the CLI and the browser bench import runStudy from the pipeline', () => {
    for (const f of ['src/workers/train.worker.ts', 'src/cli/study.ts']) {
      expect(readFileSync(join(ROOT, f), 'utf8'), f).toMatch(/import \{[^}]*\brunStudy\b[^}]*\} from '\.\.\/lib\/pipeline\/run'/);
    }
  });

  it('no source, test or bench cites documents the repo does not have', () => {
    const bad: string[] = [];
    const self = fileURLToPath(import.meta.url);
    const files = ['src', 'test', 'bench', 'scripts'].flatMap((d) => sources(join(ROOT, d), /\.(ts|svelte|py|sh)$/))
      .filter((f) => f !== self && !f.includes('/bench/results/'));
    for (const file of files) {
      readFileSync(file, 'utf8').split('\n').forEach((l, i) => {
        if (/model spec|study spec|product\.md/.test(l)) bad.push(`${relative(ROOT, file)}:${i + 1}`);
      });
    }
    expect(bad).toEqual([]);
  });
});
