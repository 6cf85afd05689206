/**
 * `npm run bench:gpu:pack [-- --out DIR]`: a self-contained GPU benchmark for an x86-64 Linux machine
 * with a Vulkan driver, runnable with no network, no npm and no node installed. DIR (default
 * dist-gpu-bench/) gets:
 *
 *   payload.tar.gz   bench-train.mjs (bench/train.ts and everything it imports, one esbuild bundle),
 *                    bench-torch.mjs (bench/torch.ts, likewise) with torch/twin.py (its PyTorch
 *                    twin, bench/torch/twin.py), dist/linux-x64/dawn.node (Dawn, from the `webgpu`
 *                    package, where its loader looks for it next to the bundle), and node (a copy of
 *                    the node binary this ran on)
 *   run.sh           unpacks the payload into a temporary folder and runs the reference preset (N=64,
 *                    filter scale 2, batch 16) at gridsize 1 and 2 on WebGPU with our kernels, and
 *                    gridsize 2 once more on tfjs' own (PTYCHO_OUR_WEBGPU_KERNELS=false), printing the
 *                    adapter, samples/s and the achieved FLOP/s against the adapter's measured matMul rate;
 *                    then, where `python3` (or $PYTHON) has PyTorch with CUDA, bench:torch's side by
 *                    side of our WebGPU step against the PyTorch twin on CUDA and on every CPU core
 *                    (skipped with a line saying why otherwise). The JSON of each run goes to
 *                    ./results/ next to run.sh. Arguments after run.sh replace the preset's (e.g.
 *                    `./run.sh --N 32 --filter-scale 0.25 --groups 16`); `./run.sh torch [flags]`
 *                    runs only the comparison (flags: bench/torch.ts's, after the pack's defaults).
 *   README.txt       what the machine needs (the Vulkan loader, libvulkan.so.1, and a driver; PyTorch
 *                    with CUDA for the comparison).
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
  //    tfjs-backend-wasm's loader looks for its .wasm in __dirname: give the bundle that too, and the
  //    two builds Node runs (SIMD and plain; Node has no WASM threads) next to it, so that
  //    `--backend wasm` works in the pack as in the repo.
  //    bench-torch.mjs finds its twin at <bundle dir>/torch/twin.py, as bench/torch.ts does in the repo.
  for (const [entry, out] of [['bench/train.ts', 'bench-train.mjs'], ['bench/torch.ts', 'bench-torch.mjs']]) {
    await build({
      entryPoints: [path.join(ROOT, entry)],
      outfile: path.join(stage, out),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      banner: { js: BANNER },
    });
  }
  for (const wasm of ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']) {
    fs.copyFileSync(path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', wasm), path.join(stage, wasm));
  }
  fs.mkdirSync(path.join(stage, 'torch'));
  fs.copyFileSync(path.join(ROOT, 'bench/torch/twin.py'), path.join(stage, 'torch/twin.py'));
  const dawn = path.join(ROOT, 'node_modules/webgpu/dist/linux-x64/dawn.node');
  fs.mkdirSync(path.join(stage, 'dist/linux-x64'), { recursive: true });
  fs.copyFileSync(dawn, path.join(stage, 'dist/linux-x64/dawn.node'));
  fs.copyFileSync(process.execPath, path.join(stage, 'node'));
  fs.chmodSync(path.join(stage, 'node'), 0o755);

  // 2. The folder.
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  execFileSync('tar', ['-I', 'gzip -9', '-cf', path.join(OUT, 'payload.tar.gz'), '-C', stage, 'bench-train.mjs', 'bench-torch.mjs', 'torch', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm', 'dist', 'node']);
  fs.writeFileSync(path.join(OUT, 'run.sh'), RUN_SH, { mode: 0o755 });
  fs.writeFileSync(path.join(OUT, 'README.txt'), README_TXT);
  const mb = fs.readdirSync(OUT).reduce((n, f) => n + fs.statSync(path.join(OUT, f)).size, 0) / 1e6;
  console.log(`wrote ${path.relative(process.cwd(), OUT) || '.'}/ (${mb.toFixed(1)} MB: payload.tar.gz, run.sh, README.txt; node ${process.version}, Dawn from webgpu ${pkgVersion('webgpu')})`);
  if (mb > LIMIT_MB) throw new Error(`the pack is ${mb.toFixed(1)} MB, over the ${LIMIT_MB} MB it must fit in`);
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
}

const BANNER = [
  "import { createRequire as __cr } from 'node:module';",
  "import { fileURLToPath as __fu } from 'node:url';",
  "import { dirname as __dn } from 'node:path';",
  'const require = __cr(import.meta.url);',
  'const __filename = __fu(import.meta.url);',
  'const __dirname = __dn(__filename);',
].join(' ');

function pkgVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

const RUN_SH = `#!/bin/sh
# PtychoPINN Studio GPU benchmark (made by npm run bench:gpu:pack). Needs only sh, tar and gzip here;
# see README.txt for the Vulkan driver and PyTorch. Results: ./results/train-<date>.json and
# ./results/torch-<date>.json next to this script.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "\${TMPDIR:-/tmp}/ptychopinn-gpu-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
tar -xzf "$HERE/payload.tar.gz" -C "$WORK"
mkdir -p "$HERE/results"
ln -s "$HERE/results" "$WORK/results"
PY=\${PYTHON:-python3}

# Our WebGPU step against the PyTorch twin on CUDA and on every CPU core (bench/torch.ts), where
# $PY has PyTorch with CUDA; skipped with the reason otherwise. Flags given here come after the
# defaults and win (e.g. --backend wasm --torch cpu1 --only demo-gs1 runs it without a GPU).
torch_comparison() {
  if ! command -v "$PY" >/dev/null 2>&1; then
    echo "torch comparison skipped: no $PY here (PYTHON=/path/to/python selects one)"
    return 0
  fi
  if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    echo "torch comparison skipped: $PY cannot import torch (pip install torch, or PYTHON=/path/to/python)"
    return 0
  fi
  if "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    devices=cuda,cpu
  elif [ "$#" -eq 0 ]; then
    echo "torch comparison skipped: torch.cuda.is_available() is False for $PY (torch $("$PY" -c 'import torch; print(torch.__version__)'))"
    return 0
  else
    devices=cpu
  fi
  "$WORK/node" "$WORK/bench-torch.mjs" --backend webgpu --python "$PY" --torch "$devices" "$@"
}

if [ "\${1:-}" = torch ]; then
  shift
  torch_comparison "$@"
elif [ "$#" -gt 0 ]; then
  "$WORK/node" "$WORK/bench-train.mjs" --backend webgpu "$@"
else
  for gs in 1 2; do
    "$WORK/node" "$WORK/bench-train.mjs" --backend webgpu --N 64 --filter-scale 2 --batch 16 --gridsize "$gs"
  done
  # gridsize 2 again on tfjs' own WebGPU kernels (ours off): the speed-up of ours on this card
  PTYCHO_OUR_WEBGPU_KERNELS=false "$WORK/node" "$WORK/bench-train.mjs" --backend webgpu --N 64 --filter-scale 2 --batch 16 --gridsize 2
  torch_comparison
fi
`;

const README_TXT = `PtychoPINN Studio: portable GPU benchmark
==========================================

  ./run.sh                 the reference preset (N=64, filter scale 2, batch 16, 512 groups, 3 epochs)
                           at gridsize 1, then 2, on tfjs' WebGPU backend through Dawn with our
                           WGSL kernels; then gridsize 2 on tfjs' own kernels (the JSON's
                           ourWebGpuKernels says which): samples/s of the two gridsize-2 runs
                           side by side give our kernels' speed-up on this card
  ./run.sh --N 32 --filter-scale 0.25 --batch 8 --groups 16 --epochs 1     a quick check
  ./run.sh torch           only the PyTorch comparison (below)

After the three training runs, ./run.sh compares our WebGPU training step with a PyTorch twin of the
same network, physics, loss and batch (npm run bench:torch in the repository) on CUDA and on every
CPU core, for the Reference preset's shapes and the Demo preset's, and prints samples/s for both and
their ratio (./results/torch-<date>.json). It needs a Python with PyTorch built for CUDA: python3 on
the PATH, or PYTHON=/path/to/python ./run.sh. Where there is none, or torch.cuda.is_available() is
False, it says so and skips the comparison. \`./run.sh torch FLAGS\` runs the comparison alone with
bench/torch.ts's flags after the defaults (--backend webgpu --torch cuda,cpu), also without CUDA,
e.g. \`./run.sh torch --backend wasm --torch cpu1,cpu --only demo-gs1\`.

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
