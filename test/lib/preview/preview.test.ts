import { describe, expect, it } from 'vitest';
import { amplitudeDisplayScale, previewImages } from '../../../src/lib/preview/preview';
import { colourise } from '../../../src/lib/preview/colour';

/** A 20 x 10 amplitude ramp (0.2 .. 1.0) with NaN (unscanned) in its first column. */
function truthRamp(): Float32Array {
  const a = new Float32Array(200);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) a[y * 20 + x] = x === 0 ? NaN : 0.2 + (0.8 * x) / 19;
  return a;
}

describe('live preview colour scale', () => {
  it('scales a reconstruction by median(truth)/median(recon) over the pixels both cover', () => {
    const t = truthRamp();
    const r = t.map((v) => 3 * v);
    expect(amplitudeDisplayScale(t, r)).toBeCloseTo(1 / 3, 6);
    expect(amplitudeDisplayScale(t, new Float32Array(200))).toBe(1); // median 0: no scaling
    expect(amplitudeDisplayScale(new Float32Array(200).fill(NaN), r)).toBe(1);
  });

  it('a reconstruction that is the truth times 3 gets the truth\'s colours; its limits are in its own units', () => {
    const t = truthRamp();
    const r = t.map((v) => 3 * v);
    const phase = new Float32Array(200);
    const p = previewImages({ width: 20, height: 10, amplitude: r, phase, truthAmplitude: t, truthPhase: phase });
    expect(Array.from(p.amplitude.rgba)).toEqual(Array.from(p.truthAmplitude!.rgba));
    expect(p.amplitude.min).toBeCloseTo(3 * p.truthAmplitude!.min, 5);
    expect(p.amplitude.max).toBeCloseTo(3 * p.truthAmplitude!.max, 5);
  });

  it('a few huge pixels saturate instead of darkening the rest of the reconstruction', () => {
    const t = truthRamp();
    const r = Float32Array.from(t);
    for (let i = 0; i < 200; i += 20) if (Number.isFinite(r[i + 1])) r[i + 1] = 2000; // 10 of 190 scanned pixels, 5 %
    const phase = new Float32Array(200);
    const p = previewImages({ width: 20, height: 10, amplitude: r, phase, truthAmplitude: t, truthPhase: phase });
    // The reconstruction's limits stay near the truth's (the outliers move the median by one column
    // of the 19-column ramp, under 10 %); a range shared with the outliers would reach 2000.
    expect(p.amplitude.max / p.truthAmplitude!.max).toBeGreaterThan(1);
    expect(p.amplitude.max / p.truthAmplitude!.max).toBeLessThan(1.1);
    expect(p.amplitude.min / p.truthAmplitude!.min).toBeLessThan(1.1);
    const px = (rgba: Uint8ClampedArray, k: number) => Array.from(rgba.slice(4 * k, 4 * k + 4));
    // The outliers take the top colour (the crop drops the unscanned first column: 19 px wide).
    expect(p.width).toBe(19);
    expect(px(p.amplitude.rgba, 19)).toEqual(Array.from(colourise([1], 0, 1, 'viridis')));
  });

  it('without a truth, the reconstruction keeps its own range', () => {
    const r = truthRamp().map((v) => 5 * v);
    const p = previewImages({ width: 20, height: 10, amplitude: r, phase: new Float32Array(200) });
    expect(p.amplitude.min).toBeGreaterThan(0.99);
    expect(p.amplitude.max).toBeLessThanOrEqual(5);
    expect(p.amplitude.max).toBeGreaterThan(4.9);
  });
});
