import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { amplitudeMae, poissonNll } from '../../../src/lib/model/loss';
import {
  groupDataset,
  groupGeometry,
  groupIndices,
  intensityScale,
  nearestNeighbours,
  normalisationFactor,
  subsampleIndices,
  trainingBudget,
  validationSplit,
} from '../../../src/lib/model/data';
import { Rng } from '../../../src/lib/model/rng';

const fx = JSON.parse(readFileSync(new URL('../../fixtures/model/model_fixtures.json', import.meta.url), 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Poisson NLL and MAE vs numpy (model.py:485-498, 869-886)', () => {
  it('matches numpy on fixed tensors, including Î = 0 (ε inside the log)', () => {
    const L = fx.loss;
    const I = tf.tensor(L.I, L.shape);
    const Y = tf.tensor(L.Y, L.shape);
    const A = tf.tensor(L.A, L.shape);
    const nll = poissonNll(I, Y).dataSync()[0];
    const mae = amplitudeMae(I, A).dataSync()[0];
    expect(Number.isFinite(nll)).toBe(true);
    expect(Math.abs(nll - L.nll) / Math.abs(L.nll)).toBeLessThan(1e-5);
    expect(Math.abs(mae - L.mae) / Math.abs(L.mae)).toBeLessThan(1e-5);
    tf.dispose([I, Y, A]);
  });
  it('matches numpy at photon-count scale', () => {
    const L = fx.loss;
    const I = tf.tensor(L.I_big, L.big_shape);
    const Y = tf.tensor(L.Y_big, L.big_shape);
    const nll = poissonNll(I, Y).dataSync()[0];
    expect(nll).toBeLessThan(0); // large and negative, as the reference's reported loss (`model.py:485-498, 869-886`)
    expect(Math.abs(nll - L.nll_big) / Math.abs(L.nll_big)).toBeLessThan(1e-5);
    tf.dispose([I, Y]);
  });
});

describe('normalisation and intensity scale (raw_data.py:972-992, train_pinn.py:165-180)', () => {
  it('α matches numpy, counting a duplicated pattern once per occurrence', () => {
    const n = fx.norm;
    const alpha = normalisationFactor(Float32Array.from(n.d), n.N, Int32Array.from(n.indices));
    expect(Math.abs(alpha - n.alpha) / n.alpha).toBeLessThan(1e-12);
  });
  it('s = sqrt(nphotons)/(N/2); 988.2 for N=64 and 1e9 photons', () => {
    for (const [np_, N, s] of fx.norm.s) expect(intensityScale(np_, N)).toBeCloseTo(s, 9);
    expect(intensityScale(1e9, 64)).toBeCloseTo(988.2, 1);
  });
  it('after grouping, the mean Σ X² per pattern is (N/2)²', () => {
    const N = 8, n = 30;
    const rng = new Rng(5);
    const diffraction = Float32Array.from({ length: n * N * N }, () => rng.next() * 4);
    const xs = Float64Array.from({ length: n }, () => rng.next() * 50);
    const ys = Float64Array.from({ length: n }, () => rng.next() * 50);
    for (const gridsize of [1, 2]) {
      const g = groupDataset({ N, n, diffraction, xcoords: xs, ycoords: ys, xcoordsStart: xs, ycoordsStart: ys }, { gridsize, nGroups: 20, neighborCount: 4, seed: 1 });
      let e = 0;
      for (const v of g.X) e += v * v;
      expect(e / (g.B * g.C)).toBeCloseTo((N / 2) ** 2, 3);
    }
  });
});

describe('subsampling, K-NN grouping and offsets (scripts/training/train.py:60-114, raw_data.py:372-606)', () => {
  const k = fx.knn;
  const x = Float64Array.from(k.x), y = Float64Array.from(k.y);
  const xs = Float64Array.from(k.xs), ys = Float64Array.from(k.ys);

  it('nearest neighbours match a numpy brute force, seed excluded', () => {
    for (let i = 0; i < x.length; i++) {
      const nn = Array.from(nearestNeighbours(x, y, i, k.K));
      expect(nn).toEqual(k.nn[i]);
      expect(nn).not.toContain(i);
    }
  });

  it('gridsize 2 groups: each group is C of the seed\'s K neighbours, seed excluded, channels in row-major order of position', () => {
    const { indices, seeds } = groupIndices(x, y, 4, 25, 4, new Rng(9));
    expect(seeds.length).toBe(25);
    expect(new Set(seeds).size).toBe(25); // seeds without replacement
    let notDistanceOrder = 0;
    for (let b = 0; b < 25; b++) {
      const grp = Array.from(indices.subarray(b * 4, b * 4 + 4));
      expect([...grp].sort((a, c) => a - c)).toEqual([...k.nn[seeds[b]]].sort((a: number, c: number) => a - c));
      expect(grp).not.toContain(seeds[b]);
      // deviation from the reference's random channel order (README, "Decisions"): y, then x, ascending
      for (let c = 1; c < 4; c++) {
        const [p, q] = [grp[c - 1], grp[c]];
        expect(y[p] < y[q] || (y[p] === y[q] && x[p] <= x[q]), `group ${b} channels ${c - 1}, ${c}`).toBe(true);
      }
      if (grp.join() !== k.nn[seeds[b]].join()) notDistanceOrder++;
    }
    expect(notDistanceOrder).toBeGreaterThan(10); // ordered by position, not by distance
  });

  it('gridsize 2 on a raster: every interior group has the same layout (up, left, right, down)', () => {
    const L = 6, a = 10;
    const rx = Float64Array.from({ length: L * L }, (_, i) => (i % L) * a);
    const ry = Float64Array.from({ length: L * L }, (_, i) => Math.floor(i / L) * a);
    const { indices, seeds } = groupIndices(rx, ry, 4, L * L, 4, new Rng(5));
    let interior = 0;
    for (let b = 0; b < seeds.length; b++) {
      const s = seeds[b];
      const [r, c] = [Math.floor(s / L), s % L];
      if (r === 0 || c === 0 || r === L - 1 || c === L - 1) continue;
      interior++;
      expect(Array.from(indices.subarray(b * 4, b * 4 + 4))).toEqual([s - L, s - 1, s + 1, s + L]);
    }
    expect(interior).toBe((L - 2) * (L - 2));
  });

  it('gridsize 2 with K > C picks C distinct neighbours among the K', () => {
    const { indices, seeds } = groupIndices(x, y, 4, 10, 7, new Rng(3));
    for (let b = 0; b < 10; b++) {
      const nn7 = Array.from(nearestNeighbours(x, y, seeds[b], 7));
      const grp = Array.from(indices.subarray(b * 4, b * 4 + 4));
      expect(new Set(grp).size).toBe(4);
      for (const i of grp) expect(nn7).toContain(i);
    }
  });

  it('gridsize 1 groups are the points themselves in file order', () => {
    const { indices } = groupIndices(x, y, 1, 512, 4, new Rng(1));
    expect(Array.from(indices)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('offsets r_c = −(p_c − p̄) from the start coordinates and centres from the plain ones match numpy', () => {
    const idx = Int32Array.from(k.groups.flat());
    const { offsets, centres } = groupGeometry(x, y, xs, ys, idx, 4);
    const exp = k.offsets.flat();
    for (let i = 0; i < exp.length; i++) expect(offsets[i]).toBeCloseTo(exp[i], 5);
    const ec = k.centres.flat();
    for (let i = 0; i < ec.length; i++) expect(centres[i]).toBeCloseTo(ec[i], 10);
    // sign: the first channel of group 0 sits left of the centre iff its offset is positive
    expect(Math.sign(offsets[0])).toBe(-Math.sign(xs[k.groups[0][0]] - (k.groups[0].reduce((s: number, i: number) => s + xs[i], 0) / 4)));
  });

  it('groupDataset is reproducible for a seed and aligns diffraction channels with offsets', () => {
    const N = 4, n = 40;
    const diffraction = new Float32Array(n * N * N);
    for (let i = 0; i < n; i++) diffraction.fill(i + 1, i * N * N, (i + 1) * N * N); // pattern i is constant i+1
    const data = { N, n, diffraction, xcoords: x, ycoords: y, xcoordsStart: xs, ycoordsStart: ys };
    const a = groupDataset(data, { gridsize: 2, nGroups: 12, neighborCount: 4, seed: 77 });
    const b = groupDataset(data, { gridsize: 2, nGroups: 12, neighborCount: 4, seed: 77 });
    const c = groupDataset(data, { gridsize: 2, nGroups: 12, neighborCount: 4, seed: 78 });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
    for (let g = 0; g < a.B; g++) {
      for (let ch = 0; ch < 4; ch++) {
        const pt = a.indices[g * 4 + ch];
        // X[g, h, w, ch] = α·(pt+1) everywhere
        expect(a.X[g * N * N * 4 + 5 * 4 + ch]).toBeCloseTo(a.alpha * (pt + 1), 4);
        const mx = Array.from(a.indices.subarray(g * 4, g * 4 + 4)).reduce((s, i) => s + xs[i], 0) / 4;
        expect(a.offsets[(g * 4 + ch) * 2]).toBeCloseTo(-(xs[pt] - mx), 4);
      }
    }
  });

  it('subsampling: all points in order when n ≤ n_groups; a sorted random subset otherwise', () => {
    expect(Array.from(subsampleIndices(5, 10, new Rng(1)))).toEqual([0, 1, 2, 3, 4]);
    const sub = Array.from(subsampleIndices(100, 10, new Rng(1)));
    expect(sub.length).toBe(10);
    expect(new Set(sub).size).toBe(10);
    expect(sub).toEqual([...sub].sort((a, b) => a - b));
    expect(sub).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('too few positions for gridsize 2 is a clear error', () => {
    expect(() => groupIndices(x.subarray(0, 4), y.subarray(0, 4), 4, 10, 4, new Rng(1))).toThrow(/at least 5 positions/);
  });

  it('validation split is the Keras tail: 512 -> 486 / 26 (validation_split=0.05, model.py:681)', () => {
    expect(validationSplit(512, 0.05)).toEqual({ train: 486, val: 26 });
    expect(validationSplit(20, 0.05)).toEqual({ train: 19, val: 1 });
    expect(validationSplit(10, 0.05)).toEqual({ train: 9, val: 1 });
  });

  it('training budget: groups capped by the positions, steps per epoch and in all', () => {
    const reference = { groups: 512, batchSize: 16, epochs: 50 };
    // the demo's dense train split (288 positions) under the Reference preset: 273 train groups, 18 steps an epoch
    expect(trainingBudget(288, reference)).toEqual({ groups: 288, trainGroups: 273, stepsPerEpoch: 18, steps: 900 });
    // more positions than groups asked: 512 -> 486 train groups, ceil(486/16) = 31 steps
    expect(trainingBudget(1024, reference)).toEqual({ groups: 512, trainGroups: 486, stepsPerEpoch: 31, steps: 1550 });
    // a sparse view of 32 positions: 30 train groups, 2 steps an epoch
    expect(trainingBudget(32, reference)).toEqual({ groups: 32, trainGroups: 30, stepsPerEpoch: 2, steps: 100 });
    // one position leaves nothing to train on (trainPinn fails such a job)
    expect(trainingBudget(1, reference)).toEqual({ groups: 1, trainGroups: 0, stepsPerEpoch: 0, steps: 0 });
  });
});
