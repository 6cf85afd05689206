/**
 * `npm run bench`: runs every benchmark, prints its table and writes results/<name>-<date>.json.
 * Options: --only=npz  --mb=200 (NPZ size)  --reps=3
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchNpz } from './npz.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

const benches: Record<string, () => Promise<unknown>> = {
  npz: () => benchNpz({ mb: Number(arg('mb') ?? 200), reps: Number(arg('reps') ?? 3) }),
};

const only = arg('only');
const date = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`\n== ${name} ==`);
  const results = await run();
  const out = path.join(HERE, 'results', `${name}-${date}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({
    bench: name, date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model,
    args: process.argv.slice(2), results,
  }, null, 2));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
