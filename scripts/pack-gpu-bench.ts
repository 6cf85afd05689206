/**
 * `npm run bench:gpu:pack [-- --out DIR]`: a self-contained GPU benchmark for an x86-64 Linux machine
 * with a Vulkan driver, runnable with no network, no npm and no node installed. DIR (default
 * dist-gpu-bench/) gets:
 *
 *   payload.tar.gz   bench-train.mjs (bench/train.ts and everything it imports, one esbuild bundle),
 *                    dist/linux-x64/dawn.node (Dawn, from the `webgpu` package, where its loader looks
 *                    for it next to the bundle), and node (a copy of the node binary this ran on)
 *   run.sh           unpacks the payload into a temporary folder and runs the reference preset (N=64,
 *                    filter scale 2, batch 16) at gridsize 1 and 2 on WebGPU, printing the adapter,
 *                    samples/s and the achieved FLOP/s against the adapter's measured matMul rate;
 *                    the JSON of each run goes to ./results/ next to run.sh. Arguments after run.sh
 *                    replace the preset's (e.g. `./run.sh --N 32 --filter-scale 0.25 --groups 16`).
 *   README.txt       what the machine needs (the Vulkan loader, libvulkan.so.1, and a driver).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const OUT = path.resolve(outArg >= 0 ? process.argv[outArg + 1] : path.join(ROOT, 'dist-gpu-bench'));
const LIMIT_MB = 60;

if (process.platform !== 'linux' || process.arch !== 'x64') {
  throw new Error(`the pack holds this machine's node binary and Dawn for linux-x64; this is ${process.platform}-${process.arch}`);
}

async function pack(): Promise<void> {
const stage = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'gpu-bench-'));
try {
  // 1. The bench as one ESM file. CommonJS dependencies (tfjs' Node builds) call require(): give the
  //    bundle a real one. webgpu's loader finds dawn.node at <bundle dir>/dist/linux-x64/dawn.node.
  await build({
    entryPoints: [path.join(ROOT, 'bench/train.ts')],
    outfile: path.join(stage, 'bench-train.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const dawn = path.join(ROOT, 'node_modules/webgpu/dist/linux-x64/dawn.node');
  fs.mkdirSync(path.join(stage, 'dist/linux-x64'), { recursive: true });
  fs.copyFileSync(dawn, path.join(stage, 'dist/linux-x64/dawn.node'));
  fs.copyFileSync(process.execPath, path.join(stage, 'node'));
  fs.chmodSync(path.join(stage, 'node'), 0o755);

  // 2. The folder.
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  execFileSync('tar', ['-I', 'gzip -9', '-cf', path.join(OUT, 'payload.tar.gz'), '-C', stage, 'bench-train.mjs', 'dist', 'node']);
  fs.writeFileSync(path.join(OUT, 'run.sh'), RUN_SH, { mode: 0o755 });
  fs.writeFileSync(path.join(OUT, 'README.txt'), README_TXT);
  const mb = fs.readdirSync(OUT).reduce((n, f) => n + fs.statSync(path.join(OUT, f)).size, 0) / 1e6;
  console.log(`wrote ${path.relative(process.cwd(), OUT) || '.'}/ (${mb.toFixed(1)} MB: payload.tar.gz, run.sh, README.txt; node ${process.version}, Dawn from webgpu ${pkgVersion('webgpu')})`);
  if (mb > LIMIT_MB) throw new Error(`the pack is ${mb.toFixed(1)} MB, over the ${LIMIT_MB} MB it must fit in`);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
}

function pkgVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

const RUN_SH = `#!/bin/sh
# PtychoPINN Studio GPU benchmark (made by npm run bench:gpu:pack). Needs only sh, tar and gzip here;
# see README.txt for the Vulkan driver. Results: ./results/train-<date>.json next to this script.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "\${TMPDIR:-/tmp}/ptychopinn-gpu-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
tar -xzf "$HERE/payload.tar.gz" -C "$WORK"
mkdir -p "$HERE/results"
ln -s "$HERE/results" "$WORK/results"
if [ "$#" -gt 0 ]; then
  "$WORK/node" "$WORK/bench-train.mjs" --backend webgpu "$@"
else
  for gs in 1 2; do
    "$WORK/node" "$WORK/bench-train.mjs" --backend webgpu --N 64 --filter-scale 2 --batch 16 --gridsize "$gs"
  done
fi
`;

const README_TXT = `PtychoPINN Studio: portable GPU benchmark
==========================================

  ./run.sh                 the reference preset (N=64, filter scale 2, batch 16, 512 groups, 3 epochs)
                           at gridsize 1, then 2, on tfjs' WebGPU backend through Dawn
  ./run.sh --N 32 --filter-scale 0.25 --batch 8 --groups 16 --epochs 1     a quick check

Each run prints the WebGPU adapter, the loss per epoch, samples/s, and the achieved FLOP/s of a
training step against the adapter's measured matMul rate, and writes the same as JSON to
./results/train-<date>.json. No network, no npm and no installed node are needed: the payload holds
the bench (one JavaScript file), Dawn (dawn.node) and a node binary for x86-64 Linux (glibc).

What the machine needs: a Vulkan-capable GPU driver and the Vulkan loader, libvulkan.so.1
(Debian/Ubuntu: libvulkan1, plus the vendor's driver: mesa-vulkan-drivers for AMD/Intel, the NVIDIA
driver's Vulkan ICD for NVIDIA). Check with \`vulkaninfo --summary\` (vulkan-tools). The loader finds
drivers through the ICD files in /usr/share/vulkan/icd.d and /etc/vulkan/icd.d; VK_ICD_FILENAMES
selects one explicitly. Without a GPU, Chromium's software driver works too (slowly):

  VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium ./run.sh ...

If Dawn finds no adapter, the run stops with that message.
`;

await pack();
