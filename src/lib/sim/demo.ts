/**
 * The embedded demo study (docs/demo-study.md, docs/decisions/2026-12-06-demo-study.md): the reference simulation recipe (`run_with_synthetic_lines.py` → `simulate_and_save.py` → `nongrid_simulation.py`) at
 * three doses, split along y into Phase C files and filtered into dense / sparse Phase D views, written
 * as real NPZ files in the standard tree:
 *
 *   phase_c/dose_<int>/patched_{train,test}.npz
 *   phase_d/dose_<int>/<view>/<view>_{train,test}.npz        (view = dense, sparse)
 *
 * DEMO CHOICES (also written into every file's `_metadata`, key `demo`). The demo must be able to show
 * an object (docs/demo-study.md): the central stitch crops of the test positions must tile the scanned
 * area for baseline and dense, and sparse must keep tens of positions per split.
 * - 'small': N = 32; 'standard': N = 64 (the reference default N).
 * - Spacing thresholds scale with the patch size: (1 − f)·N with f = 0.7 (dense) and 0.2 (sparse)
 *   (docs/demo-study.md; the reference used a nominal 128 px for 64 px data): 0.3·N and 0.8·N.
 * - Scan: a square raster of DEMO_LATTICE x DEMO_LATTICE positions with step a = DEMO_SPACING·N
 *   (0.305·N: 9.76 px at N = 32, 19.52 px at N = 64), the raster scan of real ptychography and of the
 *   reference's grid-sampled 'lines' benchmark (`grid_lines_workflow.py:101-123`). Why not uniform random positions: the
 *   direct spacing rule keeps a random point only when its nearest neighbour is >= 0.3·N away, so at
 *   most 1/(e·π·(0.3N)²) points per px² survive, and their M x M stitch crops (M = 20 at N = 64, N/2
 *   at N = 32) cover ~10 % of the scan: the earlier random demo showed a scatter of squares. A raster
 *   with a >= 0.3·N passes the dense rule whole (dense = the baseline positions at gridsize 2), and
 *   a <= M keeps the crops tiling the scan.
 * - Sparse: the direct rule (nearest neighbour >= 0.8·N) keeps no raster point, so the demo uses the
 *   later Phase D revisions' greedy fallback (a later greedy revision of `overlap.py`; selection_strategy 'greedy' in the
 *   metadata): every third raster point on each axis, ~32 per split.
 * - Object side S = (L − 1)·a + N, rounded up to even, so positions lie in [N/2, S − N/2] (buffer N/2,
 *   `nongrid_simulation.py:153-190`).
 * - Object (2026-12-07, docs/decisions/2026-12-07-demo-star.md): a Siemens star of DEMO_SPOKES
 *   spokes (amplitude 1 on 0.25), edges blurred by σ = DEMO_STAR_BLUR·N, the resolution target of
 *   X-ray microscopy. Measured on the small demo at the Demo preset (docs/lab/2026-12-07-demo-object.md):
 *   on the reference's 'lines' texture both views reconstructed the large-scale bright and dark regions
 *   but no line, so no one could tell the object in the pictures; on the star both show the spokes down
 *   to the width they resolve, with the centre blurred. 'lines' stays as an option for measurements
 *   (`bench:demo-job -- --object lines`): a quarter of the reference lines benchmark's density
 *   (`diffsim.py:161-170`, `grid_lines_workflow.py:101-123`: 400 lines on the 2·392 px canvas at
 *   N = 64), the count scaling with S (132 lines on the small demo's 258 px).
 * - The object carries phase (2026-12-06, docs/decisions/2026-12-06-demo-study.md): the shape of the
 *   reference's set_phi, φ = P·tanh((A − max A/2)/(3·mean A)) (diffsim.py `set_phi`, where P = π), so
 *   phase scores measure something (an amplitude-only object has a flat phase). The demo's peak P is
 *   DEMO_PHASE_PEAK = 1 rad since 2026-12-07 (docs/decisions/2026-12-07-demo-dose.md): a weaker phase
 *   object, -0.13 ... 0.26 rad on the star.
 * - Probe: the reference's default disk probe (`probe.py:15-27`) widened to a disk of radius
 *   DEMO_PROBE_RADIUS·N (0.45 N since 2026-12-07; 0.33 N before; default_probe_scale from
 *   probeScaleForRadius), so that neighbouring raster positions overlap by 1 − step/diameter = 66 %, as
 *   real scans do (50-70 %). Each exposure's photons (the dose) then spread over 1.9 times the object
 *   area of the 0.33 N disk, and the study's lowest dose shows in both views' pictures and scores
 *   (docs/decisions/2026-12-07-demo-dose.md); with the 0.33 N disk neither view was dose-limited. The reference's
 *   own disk (0.17 N) at this step overlapped by 11 % and left ~20 % of the object never illuminated
 *   (disks on a square raster of step > √2·radius leave gaps). A disk wider than the central N/2
 *   window is modelled by the decoder's border branch (probe.big), with the merge normaliser floored at
 *   1 (src/lib/physics/forward.ts MERGE_NORM_FLOOR, deviation (c)). DEMO_DEFOCUS_WAVES of defocus (a
 *   quadratic phase, 1 wave at the disk edge at N = 32, 1.5 at N = 64; physics/probe.ts defocusedProbe): with the flat disk the
 *   far field is one Airy peak (amplitude max/mean 180–280 at N = 64, over the data contract's
 *   suggested 100); defocused, every file passes.
 * - One object and one set of positions for every dose (as the reference reuses seed 42); the Poisson
 *   noise is drawn from a separate stream per dose. Seeds: rng_seeds.simulation = 42 default.
 * - Diffraction is written normalised as the data contract asks (amplitude, "max typically < 1",
 *   the reference's `docs/data_contracts.md:23-47`): each dose's amplitudes are divided by their maximum over the whole simulation
 *   (train and test alike), recorded as `diffraction_scale` in `_metadata`. Training is unaffected:
 *   the model normalises by α (`raw_data.py:972-992`) and scales by nphotons itself.
 * - Files are stored uncompressed (np.savez) by default: the object (complex64, S x S) is copied into
 *   all 18 files as the reference does.
 */
import { writeNpz } from '../ingest';
import type { NdArray } from '../ingest/types';
import { defocusedProbe, probeScaleForRadius } from '../physics/probe';
import { Rng } from './rng';
import { linesObject, REFERENCE_LINE_COUNT } from './lines';
import { canonicalize, simulateDose, spacingFilter, spacingThreshold, splitByY, OVERLAP_VIEWS, SPLIT_FRACTION, type SpacingMetrics } from './study';

/** Study doses, photons per exposure (`design.py:37`: dose_list). */
export const DEMO_DOSES = [1e3, 1e4, 1e5] as const;
/** Default simulation seed (`design.py:59-63`: rng_seeds.simulation = 42). */
export const DEMO_SEED = 42;
/** Raster positions per side (see the block comment). */
export const DEMO_LATTICE = 24;
/**
 * Defocus of the demo probe, waves at the disk's edge (see the block comment): 1 at N = 32; 1.5 at
 * N = 64, where the 0.33 N disk's far field with 1 wave peaked at max/mean 134 at dose 1e3, over the
 * data contract's suggested 100 (1.5 passes every file of both sizes, with the 0.33 N and the 0.45 N disk).
 */
export const DEMO_DEFOCUS_WAVES: Readonly<Record<'small' | 'standard', number>> = { small: 1, standard: 1.5 };
/** Probe disk radius in units of N (see the block comment: 66 % linear overlap at DEMO_SPACING). */
export const DEMO_PROBE_RADIUS = 0.45;
/** The object's texture (see the block comment): a Siemens star; 'lines' stays for measurements. */
export const DEMO_OBJECT: DemoObjectKind = 'star';
/** Spokes of the Siemens star (see the block comment). */
export const DEMO_SPOKES = 24;
/** Gaussian blur of the star's edges, σ in units of N (1.5 px at N = 32, 3 px at N = 64). */
export const DEMO_STAR_BLUR = 3 / 64;
/** Background amplitude of the star (its spokes are 1). */
export const DEMO_STAR_FLOOR = 0.25;
/** Line count relative to the lines benchmark's density, for the 'lines' texture (see the block comment). */
export const DEMO_LINE_DENSITY = 0.25;
/** Peak of the object's phase, rad (the reference's set_phi uses π, diffsim.py `set_phi`; see the block comment). */
export const DEMO_PHASE_PEAK = 1;
/** Object side of the reference's lines benchmark in units of N (392 px at N = 64, `grid_lines_workflow.py:101-123`). */
export const BENCHMARK_OBJECT_SIDE = 392 / 64;
/** Raster step in units of N: >= 0.3 (the dense threshold) and <= the stitch crop (see the block comment). */
export const DEMO_SPACING = 0.305;

/** A square raster of L x L positions with step `step`, the first at (start, start), row-major (y, then x). */
export function latticePositions(L: number, step: number, start: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(L * L);
  const y = new Float64Array(L * L);
  for (let r = 0; r < L; r++) {
    for (let c = 0; c < L; c++) {
      x[r * L + c] = start + c * step;
      y[r * L + c] = start + r * step;
    }
  }
  return { x, y };
}

export type DemoSize = 'small' | 'standard';
export type DemoObjectKind = 'star' | 'lines';

export interface DemoProgress {
  message: string;
  fraction: number;
}

/**
 * Geometry overrides, for measuring demo designs (bench:demo-job); the app always uses the defaults.
 * lattice: raster positions per side; spacing: raster step in units of N; probeRadius: the probe
 * disk's radius in units of N; defocus: waves at the disk edge; phase: the object's phase peak, rad
 * (0: amplitude only).
 */
export interface DemoGeometryOptions {
  lattice?: number;
  spacing?: number;
  probeRadius?: number;
  defocus?: number;
  phase?: number;
  /** the object's texture: a Siemens star (the default) or the reference's 'lines' */
  object?: DemoObjectKind;
  /** the star's spokes, and the blur of its edges (σ in units of N) */
  spokes?: number;
  starBlur?: number;
  /** the star's background amplitude (spokes are 1) */
  starFloor?: number;
  /** 'lines': line count relative to the lines benchmark's density (1) */
  lineDensity?: number;
}

export interface DemoOptions {
  onProgress?: (p: DemoProgress) => void;
  geometry?: DemoGeometryOptions;
  seed?: number;
  /** ISO timestamp written into `_metadata` (default: now); fixed values make the bytes reproducible. */
  timestamp?: string;
  /** deflate the NPZ members like np.savez_compressed (default false: stored like np.savez; deflate in fflate costs seconds for the large objects, and a downloaded zip compresses anyway) */
  compress?: boolean;
}

export interface DemoFile {
  path: string;
  bytes: Uint8Array;
}

export interface DemoViewSummary {
  train: number;
  test: number;
  threshold: number | null;
}

export interface DemoSummary {
  size: DemoSize;
  N: number;
  objectSize: number;
  scanExtent: number;
  nPositions: number;
  /** the object's texture in a few words, e.g. "a Siemens star of 24 spokes" */
  objectText: string;
  /** probe disk radius, px, and the linear overlap of raster neighbours (1 − step / diameter) */
  probeRadius: number;
  overlap: number;
  /** peak of the object's phase, rad */
  phasePeak: number;
  seed: number;
  doses: number[];
  /** per dose: positions per view and split */
  views: Record<string, { baseline: DemoViewSummary; dense: DemoViewSummary; sparse: DemoViewSummary; meanCounts: number; sSim: number }>;
}

export interface DemoStudy {
  files: DemoFile[];
  /** human-readable summary of what was generated and why */
  description: string;
  summary: DemoSummary;
}

export function demoGeometry(size: DemoSize, o: DemoGeometryOptions = {}) {
  const N = size === 'small' ? 32 : 64;
  const lattice = o.lattice ?? DEMO_LATTICE;
  const spacing = o.spacing ?? DEMO_SPACING;
  const step = spacing * N;
  const scan = (lattice - 1) * step;
  const S = 2 * Math.ceil((scan + N) / 2); // positions in [N/2, S − N/2] (buffer N/2, `nongrid_simulation.py:153-190`)
  const lineDensity = o.lineDensity ?? DEMO_LINE_DENSITY;
  const nLines = Math.round((lineDensity * REFERENCE_LINE_COUNT * S) / (BENCHMARK_OBJECT_SIDE * N)); // relative to the lines benchmark's density, `diffsim.py:161-170`
  const probeRadius = (o.probeRadius ?? DEMO_PROBE_RADIUS) * N;
  const probeScale = probeScaleForRadius(N, probeRadius); // the default_probe_scale whose disk has this radius
  const defocus = o.defocus ?? DEMO_DEFOCUS_WAVES[size];
  const phase = o.phase ?? DEMO_PHASE_PEAK;
  // linear overlap of neighbouring illuminations along a raster row: 1 − step / disk diameter
  const overlap = Math.max(0, 1 - step / (2 * probeRadius));
  const object = o.object ?? DEMO_OBJECT;
  const spokes = o.spokes ?? DEMO_SPOKES;
  const starBlurPx = (o.starBlur ?? DEMO_STAR_BLUR) * N;
  const starFloor = o.starFloor ?? DEMO_STAR_FLOOR;
  const objectText = object === 'star' ? `a Siemens star of ${spokes} spokes` : `'lines' (${nLines} lines)`;
  return { N, S, scan, step, spacing, lattice, lineDensity, nLines, object, spokes, starBlurPx, starFloor, objectText, nPositions: lattice * lattice, buffer: N / 2, probeScale, probeRadius, defocus, phase, overlap };
}

/**
 * A Siemens star of side S, the resolution target of X-ray microscopy: `spokes` spokes of amplitude 1
 * on a background of 0.25, centred, reaching the corners, each pixel the mean of 4 x 4 sub-samples (no
 * aliasing at the fine centre), the edges blurred by a Gaussian of σ = `blur` px. Its spokes narrow
 * from about 17 px at the corners of the small demo to below a pixel at the centre, so a reconstruction
 * shows at a glance down to which width it resolves them.
 */
export function siemensStar(S: number, spokes: number, blur = 0, floor = 0.25): Float64Array {
  const out = new Float64Array(S * S);
  const c = (S - 1) / 2;
  for (let r = 0; r < S; r++) {
    for (let q = 0; q < S; q++) {
      let on = 0;
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const th = Math.atan2(r - c + (a + 0.5) / 4 - 0.5, q - c + (b + 0.5) / 4 - 0.5);
          if (Math.sin(spokes * th) >= 0) on++;
        }
      }
      out[r * S + q] = floor + (1 - floor) * (on / 16);
    }
  }
  return blur > 0 ? gaussianBlur(out, S, blur) : out;
}

/** Separable Gaussian blur of an S x S image, σ px, edges clamped. */
function gaussianBlur(img: Float64Array, S: number, sigma: number): Float64Array {
  const R = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * R + 1);
  let ks = 0;
  for (let i = -R; i <= R; i++) ks += k[i + R] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= ks;
  const tmp = new Float64Array(S * S);
  const out = new Float64Array(S * S);
  const cl = (v: number) => (v < 0 ? 0 : v >= S ? S - 1 : v);
  for (let r = 0; r < S; r++) for (let q = 0; q < S; q++) {
    let a = 0;
    for (let i = -R; i <= R; i++) a += k[i + R] * img[r * S + cl(q + i)];
    tmp[r * S + q] = a;
  }
  for (let r = 0; r < S; r++) for (let q = 0; q < S; q++) {
    let a = 0;
    for (let i = -R; i <= R; i++) a += k[i + R] * tmp[cl(r + i) * S + q];
    out[r * S + q] = a;
  }
  return out;
}

/**
 * The object's phase from its amplitude A: φ = peak·tanh((A − max A/2)/(3·mean A)), the shape of the
 * reference's set_phi (diffsim.py, `set_phi`: π·tanh(...)) with the peak as a parameter, so that the
 * phase carries the object's structure without wrapping.
 */
export function phaseFromAmplitude(A: ArrayLike<number>, peak: number): Float64Array {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < A.length; i++) {
    if (A[i] > max) max = A[i];
    sum += A[i];
  }
  const mean = sum / A.length;
  const out = new Float64Array(A.length);
  if (!(mean > 0) || peak === 0) return out;
  for (let i = 0; i < A.length; i++) out[i] = peak * Math.tanh((A[i] - max / 2) / (3 * mean));
  return out;
}

/** Divide float32 amplitudes in place by their maximum; returns the factor applied (1/max). */
function normaliseAmplitudes(a: NdArray): number {
  const d = a.data as Float32Array;
  let max = 0;
  for (let i = 0; i < d.length; i++) if (d[i] > max) max = d[i];
  if (!(max > 0)) return 1;
  const f = 1 / max;
  for (let i = 0; i < d.length; i++) d[i] *= f;
  return f;
}

const str = (text: string): NdArray => ({ dtype: 'str', shape: [], data: [text] });
const obj = (text: string): NdArray => ({ dtype: 'object', shape: [], data: [text] });
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

export async function makeDemoStudy(size: DemoSize, opts: DemoOptions = {}): Promise<DemoStudy> {
  if (size !== 'small' && size !== 'standard') throw new Error(`makeDemoStudy: size must be 'small' or 'standard', got ${String(size)}`);
  const seed = opts.seed ?? DEMO_SEED;
  const timestamp = opts.timestamp ?? new Date().toISOString();
  const compress = opts.compress ?? false;
  const progress = (message: string, fraction: number) => opts.onProgress?.({ message, fraction });
  const g = demoGeometry(size, opts.geometry);
  const { N, S } = g;

  progress(`Drawing a ${S}x${S} object: ${g.objectText}`, 0);
  await tick();
  const amp = g.object === 'star' ? siemensStar(S, g.spokes, g.starBlurPx, g.starFloor) : linesObject(S, new Rng(seed, 1), g.nLines);
  const phi = phaseFromAmplitude(amp, g.phase);
  const re = new Float64Array(S * S);
  const im = new Float64Array(S * S);
  for (let i = 0; i < S * S; i++) {
    re[i] = amp[i] * Math.cos(phi[i]);
    im[i] = amp[i] * Math.sin(phi[i]);
  }
  const object = { re, im, H: S, W: S };
  const { x, y } = latticePositions(g.lattice, g.step, g.buffer);
  const probe = defocusedProbe(N, g.defocus, g.probeScale); // RAW probe for simulation (`diffsim.py:59-155`; the model's P̂ is `probe.py:52-66`)

  const demoMeta = {
    generator: 'PtychoPINN Studio demo study (src/lib/sim/demo.ts)',
    size,
    N,
    object_size: S,
    object:
      (g.object === 'star'
        ? `a Siemens star of ${g.spokes} spokes (amplitude 1 on ${g.starFloor}), centred, edges blurred by a Gaussian of sigma ${g.starBlurPx} px`
        : `'lines', ${g.nLines} lines on a ${2 * S} px canvas, G1 + 2 G5 + 5 G10, central crop`) +
      `; phase ${g.phase.toFixed(4)}*tanh((A - max A/2)/(3 mean A)) (the reference's set_phi shape)`,
    object_kind: g.object,
    ...(g.object === 'star' ? { star_spokes: g.spokes, star_blur_px: g.starBlurPx, star_floor: g.starFloor } : { n_lines: g.nLines }),
    object_phase_peak: g.phase,
    probe: `the reference's default disk probe (probe.py get_default_probe) widened to radius ${g.probeRadius.toFixed(2)} px (${(g.probeRadius / N).toFixed(2)} N, default_probe_scale ${g.probeScale.toFixed(4)}), with a quadratic phase of ${g.defocus} wave(s) at the disk edge (defocus: spreads the far field so that amplitude max/mean < 100)`,
    probe_radius_px: g.probeRadius,
    linear_overlap_dense: g.overlap,
    scan_extent_px: g.scan,
    scan: `raster ${g.lattice} x ${g.lattice}, step ${g.step} px (${DEMO_SPACING} N)`,
    n_positions: g.nPositions,
    buffer: g.buffer,
    seed,
    overlap_views: { ...OVERLAP_VIEWS },
    spacing_thresholds: { dense: spacingThreshold(OVERLAP_VIEWS.dense, N), sparse: spacingThreshold(OVERLAP_VIEWS.sparse, N) },
    spacing_rule: '(1 - overlap) * N (docs/demo-study.md; the reference used a nominal 128 px patch)',
    sparse_selection: 'greedy fallback (the direct rule keeps no raster point at 0.8 N)',
    why: 'a raster with step between the dense threshold (0.3 N) and the stitch crop, so the test crops tile the scan; sparse keeps ~32 positions per split',
  };

  const files: DemoFile[] = [];
  const summary: DemoSummary = { size, N, objectSize: S, scanExtent: g.scan, nPositions: g.nPositions, objectText: g.objectText, probeRadius: g.probeRadius, overlap: g.overlap, phasePeak: g.phase, seed, doses: [...DEMO_DOSES], views: {} };
  const write = (path: string, arrays: Record<string, NdArray>) => files.push({ path, bytes: writeNpz(arrays, { compress }) });

  for (let di = 0; di < DEMO_DOSES.length; di++) {
    const dose = DEMO_DOSES[di];
    const tag = `dose_${Math.trunc(dose)}`;
    progress(`Simulating ${g.nPositions} patterns at dose ${dose.toExponential(0)}`, (di + 0.1) / DEMO_DOSES.length);
    await tick();
    const sim = simulateDose({ object, probe, N, x, y, dose, rng: new Rng(seed, 100 + di) });
    const diffractionScale = normaliseAmplitudes(sim.arrays.diff3d);
    const canonical = canonicalize(sim.arrays);
    const split = splitByY(canonical);
    const baseMeta = (part: 'train' | 'test', count: number) => ({
      schema_version: '1.0.0',
      creation_info: { timestamp, script: 'src/lib/sim/demo.ts', hostname: 'browser', ptychopinn_version: '2.0.0' },
      physics_parameters: { nphotons: dose, gridsize: 1, N, probe_trainable: false, intensity_scale_trainable: true, nll_weight: 1.0, model_type: 'pinn' },
      training_parameters: { n_images: g.nPositions, batch_size: 16, nepochs: 50 },
      additional_parameters: {
        input_file: null, buffer: g.buffer, seed, simulation_type: 'coordinate_based', s_sim: sim.sSim, mean_counts_per_pattern: sim.meanCounts,
        diffraction_scale: diffractionScale, diffraction_normalisation: 'amplitude divided by its maximum over the dose (data contract: max typically < 1)', demo: demoMeta,
      },
      data_transformations: [
        { tool: 'transpose_rename_convert', timestamp, operation: 'canonicalize', parameters: { flipx: false, flipy: false } },
        {
          tool: 'split_dataset_tool.py',
          timestamp,
          operation: 'train_test_split',
          parameters: { split_fraction: SPLIT_FRACTION, split_axis: 'y', parent_file: `${tag}/patched.npz`, split_point: split.splitPoint, train_count: split.trainCount, test_count: split.testCount, this_part: part, n_positions: count },
        },
      ],
    });
    write(`phase_c/${tag}/patched_train.npz`, { ...split.train, _metadata: obj(JSON.stringify(baseMeta('train', split.trainCount))) });
    write(`phase_c/${tag}/patched_test.npz`, { ...split.test, _metadata: obj(JSON.stringify(baseMeta('test', split.testCount))) });
    const entry = {
      baseline: { train: split.trainCount, test: split.testCount, threshold: null },
      dense: { train: 0, test: 0, threshold: 0 },
      sparse: { train: 0, test: 0, threshold: 0 },
      meanCounts: sim.meanCounts,
      sSim: sim.sSim,
    };
    for (const view of ['dense', 'sparse'] as const) {
      const thr = spacingThreshold(OVERLAP_VIEWS[view], N);
      for (const part of ['train', 'test'] as const) {
        const source = `phase_c/${tag}/patched_${part}.npz`;
        const r = spacingFilter(part === 'train' ? split.train : split.test, thr, `${source} (${view})`, { greedyFallback: true });
        const meta = phaseDMeta(view, thr, source, r.metrics, demoMeta);
        write(`phase_d/${tag}/${view}/${view}_${part}.npz`, { ...r.arrays, _metadata: str(JSON.stringify(meta)) });
        entry[view][part] = r.metrics.n_accepted;
        entry[view].threshold = thr;
      }
    }
    summary.views[tag] = entry;
  }
  progress('Done', 1);
  return { files, description: describe(summary), summary };
}

function phaseDMeta(view: string, threshold: number, source: string, m: SpacingMetrics, demo: object) {
  return {
    overlap_view: view,
    spacing_threshold: threshold,
    source_file: source,
    n_accepted: m.n_accepted,
    n_rejected: m.n_rejected,
    acceptance_rate: m.acceptance_rate,
    spacing_metrics: m,
    demo,
  };
}

function describe(s: DemoSummary): string {
  const lines = [
    `Demo study (${s.size}): N = ${s.N}, object ${s.objectSize}x${s.objectSize} px, ${s.objectText}, with phase up to ${s.phasePeak.toFixed(2)} rad, a raster of ${s.nPositions} positions over ${s.scanExtent.toFixed(1)}x${s.scanExtent.toFixed(1)} px, a probe disk of radius ${s.probeRadius.toFixed(1)} px (neighbours overlap ${(100 * s.overlap).toFixed(0)} %), seed ${s.seed}.`,
    `Doses ${s.doses.map((d) => d.toExponential(0)).join(', ')}; y-split into train/test; dense keeps positions whose nearest neighbour is >= 0.3·N px away (all of the raster), sparse thins the raster greedily to >= 0.8·N.`,
  ];
  for (const [tag, v] of Object.entries(s.views)) {
    lines.push(
      `${tag}: baseline ${v.baseline.train}/${v.baseline.test}, dense ${v.dense.train}/${v.dense.test} (>= ${v.dense.threshold?.toFixed(1)} px), sparse ${v.sparse.train}/${v.sparse.test} (>= ${v.sparse.threshold?.toFixed(1)} px) train/test positions; mean counts per pattern ${v.meanCounts.toFixed(0)}.`,
    );
  }
  return lines.join('\n');
}
