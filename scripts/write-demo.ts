/**
 * `npm run demo:write -- [--size small|standard] [--seed S] --out DIR`: writes the app's demo study
 * (src/lib/sim/demo.ts, the same files the "Load demo study" button makes) to DIR as phase_c/ and
 * phase_d/ trees, so the CLI (`npm run study -- --phase-c-root DIR/phase_c --phase-d-root
 * DIR/phase_d ...`) and the cluster scripts can train it too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeDemoStudy, type DemoSize } from '../src/lib/sim';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const size = (arg('--size') ?? 'standard') as DemoSize;
const out = arg('--out');
const seedArg = arg('--seed');
if (!out) throw new Error('demo:write needs --out DIR');
if (size !== 'small' && size !== 'standard') throw new Error(`--size must be small or standard, got ${size}`);
const seed = seedArg === undefined ? undefined : Number(seedArg);
if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`--seed must be a whole number, got ${seedArg}`);

const t0 = performance.now();
const study = await makeDemoStudy(size, { seed, onProgress: (p) => console.log(`  ${p.message}`) });
for (const f of study.files) {
  const file = path.join(out, f.path);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, f.bytes);
}
console.log(`wrote the ${size} demo study (${study.files.length} files) under ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
