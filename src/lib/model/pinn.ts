/**
 * The full PtychoPINN model: input scaler (÷e^λ) -> generator -> complex object A·e^{iφ} ->
 * physics (merge, trim, extract, probe, far field; src/lib/physics) -> output scale (×e^{2λ} on
 * intensity) (`model.py:251-275`; `custom_layers.py:60-63`; `model.py:758-828`; `model.py:280-289`).
 *
 * DELIBERATE DEVIATION (b), docs/decisions.md; the reference's λ is `model.py:257-262`, s `train_pinn.py:165-180`: λ = ln s is a constant by
 * default. The reference declares it trainable, but it never moved in the reference's own runs.
 * Pass `trainableScale: true` to train it. Deviation (a), the per-sample merge, lives in the physics.
 */
import * as tf from '@tensorflow/tfjs';
import { buildForwardOperators, canvasSize, forwardIntensity, normalizeProbe, probeMask, defaultProbe, type ForwardOperators } from '../physics';
import { buildGenerator, type NetworkConfig } from './network';
import type { PinnSettings } from './settings';
import { totalLoss } from './loss';
import { intensityScale } from './data';

export interface PinnOptions {
  settings: PinnSettings;
  /** The raw probe guess (row-major N×N re/im). A wrong size falls back to the default probe (`model.py:797-802`). */
  probe?: { re: Float32Array; im: Float32Array };
  /** Seed for the layer initialisers. */
  seed: number;
  /** Train λ (default false, deviation (b)). */
  trainableScale?: boolean;
  /** Override nphotons for s (e.g. from the NPZ metadata, `scripts/training/train.py:379-398`). */
  nPhotons?: number;
}

export class PtychoPinn {
  readonly settings: PinnSettings;
  readonly generator: tf.LayersModel;
  /** λ, shared by the input and output scalers; initialised to ln s (`model.py:251-275`). */
  readonly logScale: tf.Variable<tf.Rank.R0>;
  /** The normalised probe P̂ (`probe.py:52-66`), masked when probe.mask is set. */
  readonly probe: { re: tf.Tensor2D; im: tf.Tensor2D };
  /** The normalised probe as arrays (for saving). */
  readonly probeArrays: { re: Float32Array; im: Float32Array };
  readonly probeSource: 'data' | 'default';
  /** s = sqrt(nphotons)/(N/2). */
  readonly scale: number;
  readonly P: number;
  readonly trainableScale: boolean;

  constructor(opts: PinnOptions) {
    const s = opts.settings;
    this.settings = s;
    const netCfg: NetworkConfig = {
      N: s.N,
      C: s.C,
      nFiltersScale: s.nFiltersScale,
      objectBig: s.objectBig,
      probeBig: s.probeBig,
      padObject: s.padObject,
      ampActivation: s.ampActivation,
      seed: opts.seed,
    };
    this.scale = intensityScale(opts.nPhotons ?? s.nPhotons, s.N);
    this.P = canvasSize(s.N, s.gridsize, s.offset, s.maxPositionJitter);
    this.trainableScale = opts.trainableScale ?? false;
    const NN = s.N * s.N;
    let raw = opts.probe;
    this.probeSource = 'data';
    if (!raw || raw.re.length !== NN || raw.im.length !== NN) {
      raw = defaultProbe(s.N);
      this.probeSource = 'default';
    }
    const norm = normalizeProbe(raw, s.probeScale);
    if (s.probeMask) {
      // probe.mask (legacy): Ψ and the probe are multiplied by the disk M (`model.py:176-229`).
      const m = probeMask(s.N);
      for (let i = 0; i < NN; i++) {
        norm.re[i] *= m[i];
        norm.im[i] *= m[i];
      }
    }
    this.probeArrays = norm;
    this.generator = buildGenerator(netCfg);
    const lambda0 = tf.scalar(Math.log(this.scale));
    this.logScale = tf.variable(lambda0, this.trainableScale, undefined, 'float32'); // a copy: the scalar is not kept
    lambda0.dispose();
    this.probe = { re: tf.tensor2d(norm.re, [s.N, s.N]), im: tf.tensor2d(norm.im, [s.N, s.N]) };
  }

  /** Variables the optimiser updates, in a fixed order (the Adam state is positional). */
  trainableVariables(): tf.Variable[] {
    const vars = this.generator.trainableWeights.map((w) => w.read() as tf.Variable);
    if (this.trainableScale) vars.push(this.logScale);
    return vars;
  }

  /** Operators for a batch of relative offsets (flat (b·C+c)·2+{x,y}). Caller disposes. */
  operators(offsets: Float32Array, B: number): ForwardOperators {
    const s = this.settings;
    return buildForwardOperators(offsets, B, s.N, s.C, this.P);
  }

  /**
   * Forward pass. `inputs` is s·X, (B,N,N,C) (`model.py:750-751`). Returns Î = e^{2λ}·|F|² (B,N,N,C)
   * and the trimmed object (B,N,N,1) as (re, im); with `windows`, also each channel's object window
   * (B·C,N,N), the patch the probe illuminates for that channel's diffraction pattern.
   */
  forward(inputs: tf.Tensor4D, ops: ForwardOperators, training: boolean): { intensity: tf.Tensor4D; trimmedRe: tf.Tensor4D; trimmedIm: tf.Tensor4D };
  forward(
    inputs: tf.Tensor4D,
    ops: ForwardOperators,
    training: boolean,
    opts: { windows: true },
  ): { intensity: tf.Tensor4D; trimmedRe: tf.Tensor4D; trimmedIm: tf.Tensor4D; windowsRe: tf.Tensor3D; windowsIm: tf.Tensor3D };
  forward(
    inputs: tf.Tensor4D,
    ops: ForwardOperators,
    training: boolean,
    opts?: { windows: true },
  ): { intensity: tf.Tensor4D; trimmedRe: tf.Tensor4D; trimmedIm: tf.Tensor4D; windowsRe?: tf.Tensor3D; windowsIm?: tf.Tensor3D } {
    return tf.tidy(() => {
      const scaled = tf.div(inputs, tf.exp(this.logScale)) as tf.Tensor4D; // input / e^λ (`model.py:251-275`)
      const [amp, phase] = this.generator.apply(scaled, { training }) as tf.Tensor4D[];
      // O = A·(cos φ + i sin φ) (`custom_layers.py:60-63`)
      const re = tf.mul(amp, tf.cos(phase)) as tf.Tensor4D;
      const im = tf.mul(amp, tf.sin(phase)) as tf.Tensor4D;
      const out = forwardIntensity(re, im, ops, this.probe, this.settings.objectBig, { windows: opts?.windows === true });
      // Î = (e^λ·A)² = e^{2λ}·I (`model.py:280-289`), fed straight to the NLL rather than squaring A = √I (`tf_helper.py:359-366`).
      const intensity = tf.mul(out.intensity, tf.exp(tf.mul(2, this.logScale))) as tf.Tensor4D;
      const trimmed = { intensity, trimmedRe: out.trimmedRe, trimmedIm: out.trimmedIm };
      return opts?.windows ? { ...trimmed, windowsRe: out.windowsRe!, windowsIm: out.windowsIm! } : trimmed;
    });
  }

  /** The training loss for a batch: targets are s·X (amplitude) and (s·X)² (intensity) (`model.py:614-622`). */
  loss(inputs: tf.Tensor4D, ops: ForwardOperators, training: boolean): tf.Scalar {
    return tf.tidy(() => {
      const { intensity } = this.forward(inputs, ops, training);
      return totalLoss(intensity, inputs, { nll: this.settings.nllWeight, mae: this.settings.maeWeight });
    });
  }

  /** Current λ. */
  lambda(): number {
    return this.logScale.dataSync()[0];
  }

  dispose(): void {
    this.generator.dispose();
    this.logScale.dispose();
    this.probe.re.dispose();
    this.probe.im.dispose();
  }
}
