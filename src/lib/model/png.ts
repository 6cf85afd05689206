/**
 * A tiny PNG encoder (8-bit grey, RGB or RGBA, no interlace, filter 0 on every row) in pure
 * TypeScript: zlib via fflate, CRC-32 from the ingest stage. No DOM, so it runs in workers and Node.
 */
import { zlibSync } from 'fflate';
import { crc32 } from '../ingest/crc32';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPE: Record<1 | 3 | 4, number> = { 1: 0, 3: 2, 4: 6 };

export interface PngImage {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA) */
  channels: 1 | 3 | 4;
  /** height·width·channels bytes, row-major */
  data: Uint8Array;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new Error(`encodePng: bad size ${width}x${height}`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: expected ${width * height * channels} bytes, got ${data.length}`);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let r = 0; r < height; r++) {
    raw[r * (stride + 1)] = 0; // filter type None
    raw.set(data.subarray(r * stride, (r + 1) * stride), r * (stride + 1) + 1);
  }
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Linear map of finite values in [lo, hi] to 0..255 (NaN -> 0). */
export function toBytes(values: ArrayLike<number>, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(values.length);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255))) : 0;
  }
  return out;
}

/**
 * Preview: amplitude (min..max, grey) and phase (−π..π, grey) side by side with a 2-pixel white
 * gap, as one grey PNG.
 */
export function reconstructionPreview(width: number, height: number, amplitude: Float32Array, phase: Float32Array): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of amplitude) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  const a = toBytes(amplitude, lo, hi);
  const p = toBytes(phase, -Math.PI, Math.PI);
  const gap = 2;
  const W = 2 * width + gap;
  const img = new Uint8Array(W * height).fill(255);
  for (let r = 0; r < height; r++) {
    img.set(a.subarray(r * width, (r + 1) * width), r * W);
    img.set(p.subarray(r * width, (r + 1) * width), r * W + width + gap);
  }
  return encodePng({ width: W, height, channels: 1, data: img });
}

/** Below this span (rad) of the truth's covered phase, comparison pictures show phase over [−π, π]. */
const PHASE_DISPLAY_MIN_SPAN = 1e-3;

/** `values` minus their mean over covered, finite pixels (a copy). */
function withoutCoveredMean(values: ArrayLike<number>, covered: ArrayLike<number>, n: number): Float64Array {
  let s = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (covered[i] && Number.isFinite(values[i])) { s += values[i]; k++; }
  }
  const m = k > 0 ? s / k : 0;
  return Float64Array.from({ length: n }, (_, i) => values[i] - m);
}

/** Colour of pixels no test crop reaches in comparison pictures (not scanned). */
const UNSCANNED: [number, number, number] = [70, 90, 140];

/**
 * comparison.png: truth | reconstruction, amplitude (top) and phase (bottom), on the same crop (the
 * common-region pair of src/lib/model/quality.ts, or the placed pair when a job has no common scores)
 * and the same colour scale per row: amplitude over the
 * truth's range with the reconstruction scaled by mean(truth)/mean(recon) over covered pixels (the
 * amplitude scaling eval_reconstruction applies, `evaluation.py:585-586`); phase with each image's
 * mean over covered pixels removed (the evaluation's 'mean' phase alignment, `evaluation.py:566-575`:
 * a reconstruction's phase offset is arbitrary) over the truth's range so aligned, so that a weak phase
 * object (the demo's peaks at 1 rad, src/lib/sim/demo.ts) shows its structure; over [−π, π] when the
 * truth's phase is flat. Grey levels; pixels no crop reaches are blue-grey. Small crops are enlarged by
 * an integer factor.
 */
export function comparisonPng(
  width: number,
  height: number,
  truth: { amplitude: ArrayLike<number>; phase: ArrayLike<number> },
  recon: { amplitude: ArrayLike<number>; phase: ArrayLike<number> },
  covered: ArrayLike<number>,
): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  let st = 0;
  let sr = 0;
  for (let i = 0; i < width * height; i++) {
    if (!covered[i]) continue;
    lo = Math.min(lo, truth.amplitude[i]);
    hi = Math.max(hi, truth.amplitude[i]);
    st += truth.amplitude[i];
    sr += recon.amplitude[i];
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  const scale = sr > 0 ? st / sr : 1;
  const tPhase = withoutCoveredMean(truth.phase, covered, width * height);
  const rPhase = withoutCoveredMean(recon.phase, covered, width * height);
  let pLo = Infinity;
  let pHi = -Infinity;
  for (let i = 0; i < width * height; i++) {
    if (!covered[i] || !Number.isFinite(tPhase[i])) continue;
    pLo = Math.min(pLo, tPhase[i]);
    pHi = Math.max(pHi, tPhase[i]);
  }
  if (!(pHi - pLo > PHASE_DISPLAY_MIN_SPAN)) { pLo = -Math.PI; pHi = Math.PI; }
  const z = Math.max(1, Math.min(4, Math.floor(256 / Math.max(width, height))));
  const gap = 4;
  const w = width * z;
  const h = height * z;
  const W = 2 * w + gap;
  const H = 2 * h + gap;
  const img = new Uint8Array(W * H * 3).fill(255);
  const panels: Array<[ArrayLike<number>, number, number, number, number, boolean]> = [
    [truth.amplitude, lo, hi, 0, 0, false],
    [recon.amplitude, lo, hi, 0, w + gap, true],
    [tPhase, pLo, pHi, h + gap, 0, false],
    [rPhase, pLo, pHi, h + gap, w + gap, false],
  ];
  for (const [vals, a, b, top, left, scaled] of panels) {
    const span = b > a ? b - a : 1;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const k = Math.floor(r / z) * width + Math.floor(c / z);
        const o = ((top + r) * W + left + c) * 3;
        if (!covered[k]) {
          img[o] = UNSCANNED[0];
          img[o + 1] = UNSCANNED[1];
          img[o + 2] = UNSCANNED[2];
          continue;
        }
        const v = scaled ? vals[k] * scale : vals[k];
        const g = Number.isFinite(v) ? Math.max(0, Math.min(255, Math.round(((v - a) / span) * 255))) : 0;
        img[o] = img[o + 1] = img[o + 2] = g;
      }
    }
  }
  return encodePng({ width: W, height: H, channels: 3, data: img });
}
