/**
 * NPZ read benchmark: our reader in Node against numpy.load, side by side in one run (the browser's
 * rows, from a folder input in headless Chromium, are bench/run.ts' browserNpz with bench/browser/npz.*,
 * on the same files and the same numpy process through makeNpzFiles, numpyServer and takeTurns). Our reader reads
 * through a file handle (openFileSource: positional reads straight into the arrays, zlib.crc32), the
 * primary figure, and for comparison through the same handle with our JS CRC and through
 * fs.openAsBlob (the Blob path browsers take with a File).
 *
 * Generates with numpy (/usr/bin/python3) into a temp dir a ~200 MB stored NPZ (np.savez) and a ~200 MB
 * deflated NPZ (np.savez_compressed) of diffraction-like float32 data (sqrt of Poisson counts under a
 * Gaussian beam) plus probe/object/coordinates, then times loading every member: numpy (load +
 * materialise every array) in one long-lived python process and ours in this process, taking turns round
 * by round on the same file (order alternating), so that a change in the machine's load hits both alike;
 * the ratio is best of ours over best of numpy, with the median of the per-round ratios beside it. Peak memory of
 * our reader is measured in a fresh child process per file (rss and arrayBuffers deltas vs array bytes).
 * Values are checked: our float64 sum of each array must equal numpy's.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openNpz, type NdArray, type OpenNpzOptions } from '../src/lib/ingest/index.ts';
import { openFileSource } from '../src/lib/ingest/node-source.ts';
import { sumOf } from './npz-sum.ts';

const PY = '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));

const GEN = String.raw`
import sys, numpy as np
out, mb = sys.argv[1], float(sys.argv[2])
rng = np.random.default_rng(0)
N = 64
n = int(mb * 2**20 / (N * N * 4))
yy, xx = np.mgrid[:N, :N] - N / 2
beam = 2000 * np.exp(-(xx**2 + yy**2) / (2 * 6.0**2)) + 0.05
diff = np.empty((n, N, N), np.float32)
for i in range(0, n, 1000):
    k = min(1000, n - i)
    scale = rng.uniform(0.5, 1.5, (k, 1, 1))
    diff[i:i + k] = np.sqrt(rng.poisson(beam * scale)).astype(np.float32)
arrays = dict(
    diffraction=diff,
    probeGuess=(np.exp(1j * rng.uniform(-3, 3, (N, N)))).astype(np.complex64),
    objectGuess=(np.exp(1j * rng.uniform(-1, 1, (512, 512)))).astype(np.complex64),
    xcoords=rng.uniform(0, 400, n), ycoords=rng.uniform(0, 400, n),
    xcoords_start=rng.uniform(0, 400, n), ycoords_start=rng.uniform(0, 400, n),
    scan_index=np.arange(n, dtype=np.int64),
)
np.savez(out + '/stored.npz', **arrays)
np.savez_compressed(out + '/deflated.npz', **arrays)
`;

/** A numpy process that loads the file named on each stdin line and answers with one JSON line. */
const NUMPY_SERVER = String.raw`
import sys, time, json, numpy as np
for line in sys.stdin:
    path = line.rstrip('\n')
    t = time.perf_counter()
    with np.load(path) as z:
        arrs = {k: z[k] for k in z.files}
    ms = (time.perf_counter() - t) * 1000
    sums = {k: (float(np.sum(a.view(np.float32) if a.dtype == np.complex64 else a.view(np.float64) if a.dtype == np.complex128 else a, dtype=np.float64))) for k, a in arrs.items()}
    print(json.dumps({'ms': ms, 'bytes': sum(a.nbytes for a in arrs.values()), 'sums': sums}), flush=True)
    del arrs
`;

export interface NumpyLoad {
  ms: number;
  bytes: number;
  sums: Record<string, number>;
}

export interface NumpyServer {
  load(file: string): Promise<NumpyLoad>;
  close(): void;
}

/** One long-lived numpy process, so numpy and our reader can take turns on the same file. */
export function numpyServer(): NumpyServer {
  const child = spawn(PY, ['-c', NUMPY_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  return {
    load(file) {
      return new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`numpy exited with ${code} while loading ${file}`)));
        waiting.push((line) => {
          child.removeAllListeners('exit');
          resolve(JSON.parse(line) as NumpyLoad);
        });
        child.stdin.write(`${file}\n`);
      });
    },
    close() {
      child.stdin.end();
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** How our reader gets at the file: a file handle with zlib.crc32 or with our JS CRC, or fs.openAsBlob. */
export type Via = 'handle' | 'handle-jscrc' | 'blob';

async function loadAll(file: string, via: Via, opts: OpenNpzOptions): Promise<{ arrays: Record<string, NdArray>; bytes: number }> {
  const handle = via === 'blob' ? null : await openFileSource(file, { nativeCrc: via === 'handle' });
  try {
    const z = await openNpz(handle ?? await fs.openAsBlob(file), path.basename(file), opts);
    const arrays: Record<string, NdArray> = {};
    let bytes = 0;
    for (const k of z.keys) {
      arrays[k] = await z.read(k);
      bytes += (arrays[k].data as ArrayBufferView).byteLength;
    }
    return { arrays, bytes };
  } finally {
    await handle?.close();
  }
}

/** Child mode: load once in a fresh process, print peak memory deltas. */
export async function measureMemory(file: string, via: Via, inflate: OpenNpzOptions['inflate']): Promise<void> {
  const base = process.memoryUsage();
  let peakRss = base.rss, peakAb = base.arrayBuffers;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakAb = Math.max(peakAb, m.arrayBuffers);
  }, 2);
  const { bytes } = await loadAll(file, via, { inflate });
  clearInterval(timer);
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakAb = Math.max(peakAb, m.arrayBuffers);
  console.log(JSON.stringify({ rssDelta: peakRss - base.rss, abDelta: peakAb - base.arrayBuffers, bytes }));
}

const VIA_LABEL: Record<Via, string> = {
  handle: 'file handle + zlib.crc32',
  'handle-jscrc': 'file handle + JS crc32',
  blob: 'fs.openAsBlob',
};

export interface NpzBenchRow {
  file: string;
  compression: 'stored' | 'deflate';
  via: string;
  inflate: string;
  fileMB: number;
  arrayMB: number;
  numpyMs: number;
  oursMs: number;
  /** best of ours / best of numpy */
  ratio: number;
  /** median over the rounds of (ours / numpy) within the round */
  medianRoundRatio: number;
  target: number;
  oursMBps: number;
  peakRssDeltaMB: number;
  peakArrayBuffersDeltaMB: number;
  valuesMatch: boolean;
}

/**
 * Writes stored.npz (np.savez) and deflated.npz (np.savez_compressed) of ~`mb` MB of arrays into a
 * fresh temp dir with numpy; remove() deletes it.
 */
export function makeNpzFiles(mb: number): { dir: string; remove(): void } {
  if (spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`the NPZ benchmark needs numpy at ${PY} (Debian python3-numpy)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npz-bench-'));
  console.log(`generating ~${mb} MB stored and deflated NPZ files with numpy in ${dir} ...`);
  execFileSync(PY, ['-c', GEN, dir, String(mb)], { stdio: 'inherit' });
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface Turns {
  /** numpy's first answer (bytes and sums), with the best time of the rounds */
  numpy: NumpyLoad;
  oursBestMs: number;
  /** median over the rounds of (ours / numpy) within the round */
  medianRoundRatio: number;
}

/**
 * numpy and ours take turns on the same file, round by round (order alternating), so that a change
 * in the machine's load hits both sides alike; best of the rounds for each, and the median of the
 * per-round ratios as a second opinion. `ours` returns its milliseconds.
 */
export async function takeTurns(numpy: NumpyServer, file: string, reps: number, ours: () => Promise<number>): Promise<Turns> {
  let first: NumpyLoad | undefined;
  let best = Infinity;
  let npBest = Infinity;
  const roundRatios: number[] = [];
  for (let r = 0; r < reps; r++) {
    let oursMs: number;
    let npNow: NumpyLoad;
    if (r % 2 === 0) {
      npNow = await numpy.load(file);
      oursMs = await ours();
    } else {
      oursMs = await ours();
      npNow = await numpy.load(file);
    }
    first ??= npNow;
    npBest = Math.min(npBest, npNow.ms);
    best = Math.min(best, oursMs);
    roundRatios.push(oursMs / npNow.ms);
  }
  return { numpy: { ...first!, ms: npBest }, oursBestMs: best, medianRoundRatio: median(roundRatios) };
}

export async function benchNpz(opts: { mb?: number; reps?: number; dir?: string; numpy?: NumpyServer } = {}): Promise<NpzBenchRow[]> {
  const mb = opts.mb ?? 200;
  const reps = opts.reps ?? 5;
  const files = opts.dir ? undefined : makeNpzFiles(mb);
  const dir = opts.dir ?? files!.dir;
  try {
    const rows: NpzBenchRow[] = [];
    type Case = { name: string; compression: 'stored' | 'deflate'; via: Via; inflate: 'auto' | 'native' | 'fflate'; target: number; checkCrc?: boolean };
    const cases: Case[] = [
      { name: 'stored.npz', compression: 'stored', via: 'handle', inflate: 'auto', target: 1.5 },
      { name: 'stored.npz', compression: 'stored', via: 'handle-jscrc', inflate: 'auto', target: 1.5 },
      { name: 'stored.npz', compression: 'stored', via: 'handle', inflate: 'auto', target: 1.5, checkCrc: false },
      { name: 'stored.npz', compression: 'stored', via: 'blob', inflate: 'auto', target: 1.5 },
      { name: 'deflated.npz', compression: 'deflate', via: 'handle', inflate: 'native', target: 3 },
      { name: 'deflated.npz', compression: 'deflate', via: 'blob', inflate: 'native', target: 3 },
      { name: 'deflated.npz', compression: 'deflate', via: 'blob', inflate: 'fflate', target: 3 },
    ];
    const numpy = opts.numpy ?? numpyServer();
    try {
    for (const c of cases) {
      const file = path.join(dir, c.name);
      let last: Record<string, NdArray> = {};
      const ours = async () => {
        last = {};
        const t = performance.now();
        const { arrays } = await loadAll(file, c.via, { inflate: c.inflate, checkCrc: c.checkCrc ?? true });
        const ms = performance.now() - t;
        last = arrays;
        return ms;
      };
      const turns = await takeTurns(numpy, file, reps, ours);
      const np = turns.numpy;
      const best = turns.oursBestMs;
      const valuesMatch = Object.entries(np.sums).every(([k, s]) => {
        const ours = sumOf(last[k]);
        return Math.abs(ours - s) <= 1e-9 * Math.max(1, Math.abs(s));
      });
      last = {};
      const child = c.checkCrc === false ? { status: 1, stdout: '' } : spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'npz.ts'), '--memory', file, c.via, c.inflate], { encoding: 'utf8' });
      const mem = child.status === 0 ? JSON.parse(child.stdout.trim().split('\n').pop()!) : { rssDelta: NaN, abDelta: NaN };
      const fileMB = fs.statSync(file).size / 2 ** 20;
      rows.push({
        file: c.name, compression: c.compression, via: VIA_LABEL[c.via], inflate: c.compression === 'stored' ? (c.checkCrc === false ? 'no CRC check' : '-') : c.inflate,
        fileMB: +fileMB.toFixed(1), arrayMB: +(np.bytes / 2 ** 20).toFixed(1),
        numpyMs: +np.ms.toFixed(1), oursMs: +best.toFixed(1), ratio: +(best / np.ms).toFixed(2), target: c.target,
        oursMBps: +((np.bytes / 2 ** 20) / (best / 1000)).toFixed(0),
        peakRssDeltaMB: +(mem.rssDelta / 2 ** 20).toFixed(1), peakArrayBuffersDeltaMB: +(mem.abDelta / 2 ** 20).toFixed(1),
        valuesMatch,
        medianRoundRatio: +turns.medianRoundRatio.toFixed(2),
      });
    }
    } finally {
      if (!opts.numpy) numpy.close();
    }
    console.table(rows.map((r) => ({
      file: r.file, via: r.via, inflate: r.inflate, 'file MB': r.fileMB, 'array MB': r.arrayMB, 'numpy ms': r.numpyMs, 'ours ms': r.oursMs,
      'ours/numpy': r.ratio, 'median round': r.medianRoundRatio, target: `<= ${r.target}x`, 'meets': r.ratio <= r.target ? 'yes' : 'NO', 'ours MB/s': r.oursMBps,
      'peak rss +MB': r.peakRssDeltaMB, 'peak arrayBuffers +MB': r.peakArrayBuffersDeltaMB, 'values = numpy': r.valuesMatch,
    })));
    return rows;
  } finally {
    files?.remove();
  }
}

if (process.argv[2] === '--memory') {
  await measureMemory(process.argv[3], process.argv[4] as Via, process.argv[5] as OpenNpzOptions['inflate']);
}
