/**
 * The PtychoPINN generator (`model.py:300-473`) as a tfjs-layers functional model:
 * input (B,N,N,C) = s·X / e^λ  ->  [amplitude (B,N,N,C_out), phase (B,N,N,C_out)].
 *
 * The input scaler (÷e^λ) and the output scale (×e^{2λ} on intensity) are not layers here: λ is a
 * raw scalar variable owned by PtychoPinn (src/lib/model/pinn.ts), as in the reference
 * (`model.py:251-275`, `280-289`), so the parameter count is that of the Keras layers alone (the layers of
 * `model.py:300-473`).
 *
 * Structure (`model.py:300-473`, `custom_layers.py:60-63`):
 * - encoder: blocks of Conv3x3-ReLU, Conv3x3-ReLU, MaxPool 2x2, no skips, bottleneck 8x8x128f;
 * - two heads (amplitude, phase) with separate weights: a trunk of Conv-Up blocks to (N/2,N/2,32f);
 *   main branch = conv over all but the last 4 channels -> activation -> zero pad N/4;
 *   border branch (probe.big) = Conv-Up(f·2048/N) over the last 4 channels -> conv -> swish ->
 *   border mask, added to the main branch;
 * - kernels glorotUniform (Keras default; tfjs defaults to glorotNormal, 1.6), biases zero.
 *
 * N = 32 is our documented extension for quick runs: two encoder blocks [64f, 128f], one trunk
 * block [32f], border filters f·2048/32 = 64f. The same rules give N = 16 (one encoder block, no
 * trunk block), used only by tests. n_filters_scale may be fractional for tests, as long as every
 * filter count comes out a whole number.
 */
import * as tf from '@tensorflow/tfjs';
import type { AmpActivation } from './settings';

export interface NetworkConfig {
  N: number;
  /** Input channels C = gridsize². */
  C: number;
  nFiltersScale: number;
  objectBig: boolean;
  probeBig: boolean;
  padObject: boolean;
  ampActivation: AmpActivation;
  /** Seed for the glorotUniform kernels; every layer gets its own derived seed. */
  seed?: number;
}

// ---------------------------------------------------------------------------------------------
// Custom layers (no weights). Registered for (de)serialisation so a saved model.json loads back.

/** Channels [start, end) of the last axis; negative indices count from the end (Python slicing). */
export class ChannelSlice extends tf.layers.Layer {
  static className = 'PtychoChannelSlice';
  readonly start: number;
  readonly end: number | null;
  constructor(args: { start: number; end: number | null; name?: string }) {
    super({ name: args.name });
    this.start = args.start;
    this.end = args.end;
  }
  private range(c: number): [number, number] {
    const norm = (i: number) => (i < 0 ? c + i : i);
    const s = norm(this.start);
    const e = this.end === null ? c : norm(this.end);
    return [s, e];
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1] as number;
    const [s, e] = this.range(c);
    return [...shape.slice(0, -1), e - s];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const c = x.shape[x.rank - 1];
    const [s, e] = this.range(c);
    const begin = x.shape.map((_, i) => (i === x.rank - 1 ? s : 0));
    const size = x.shape.map((d, i) => (i === x.rank - 1 ? e - s : d));
    return tf.slice(x, begin, size);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, end: this.end };
  }
}

/** Multiplies by the border mask: 1 outside the central window [N/4, 3N/4)², 0 inside (`tf_helper.py:1058-1089`). */
export class BorderMask extends tf.layers.Layer {
  static className = 'PtychoBorderMask';
  readonly N: number;
  // The config key is 'size': tfjs converts config keys camelCase <-> snake_case, which would turn 'N' into 'n'.
  constructor(args: { size: number; name?: string }) {
    super({ name: args.name });
    this.N = args.size;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.mul(x, borderMask(this.N).reshape([1, this.N, this.N, 1])));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.N };
  }
}

/** scale · tanh(x): the phase activation π·tanh (`model.py:410`, `custom_layers.py:417-445`). */
export class ScaledTanh extends tf.layers.Layer {
  static className = 'PtychoScaledTanh';
  readonly scale: number;
  constructor(args: { scale: number; name?: string }) {
    super({ name: args.name });
    this.scale = args.scale;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.mul(tf.tanh(x), this.scale));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

tf.serialization.registerClass(ChannelSlice);
tf.serialization.registerClass(BorderMask);
tf.serialization.registerClass(ScaledTanh);

/** Border mask as a Float32 N×N tensor: 1 outside [N/4, 3N/4)², 0 inside (central window, `model.py:373-402`, `tf_helper.py:1058-1089`). */
export function borderMask(N: number): tf.Tensor2D {
  const m = new Float32Array(N * N).fill(1);
  for (let r = N / 4; r < (3 * N) / 4; r++) for (let c = N / 4; c < (3 * N) / 4; c++) m[r * N + c] = 0;
  return tf.tensor2d(m, [N, N]);
}

// ---------------------------------------------------------------------------------------------
// Filter plans.

export interface FilterPlan {
  encoder: number[];
  trunk: number[];
  border: number;
  cOut: number;
}

function whole(x: number, what: string): number {
  if (!Number.isInteger(x) || x < 1) {
    throw new Error(`network: ${what} = ${x} is not a positive whole number of filters (check n_filters_scale)`);
  }
  return x;
}

/**
 * Filter counts for N (`model.py:300-329` `create_encoder`; `model.py:331-347`). The reference tables are, with f = n_filters_scale:
 * encoder N=64 [32f,64f,128f], N=128 [16f..128f], N=256 [8f..128f] (bottleneck always 8x8x128f);
 * trunk N=64 [64f,32f], N=128 [128f,64f,32f], N=256 [256f..32f]; border f·2048/N.
 * They are all instances of: nb = log2(N/8) encoder blocks, encoder block i = 128f/2^(nb-1-i),
 * nb-1 trunk blocks, trunk block j = 32f·2^(nb-2-j). That rule also defines N = 32 and 16.
 */
export function filterPlan(N: number, f: number, C: number, objectBig: boolean): FilterPlan {
  const nb = Math.log2(N / 8);
  if (!Number.isInteger(nb) || nb < 1 || N > 256) {
    throw new Error(`network: N must be 16, 32, 64, 128 or 256 (got ${N})`);
  }
  const encoder: number[] = [];
  for (let i = 0; i < nb; i++) encoder.push(whole((128 * f) / 2 ** (nb - 1 - i), `encoder block ${i + 1}`));
  const trunk: number[] = [];
  for (let j = 0; j < nb - 1; j++) trunk.push(whole(32 * f * 2 ** (nb - 2 - j), `decoder block ${j + 1}`));
  const border = whole((f * 2048) / N, 'border block'); // f·(2048/N), `model.py:373-402`
  const cOut = objectBig ? C : 1; // C_out = C when object.big, `model.py:406, 458`
  return { encoder, trunk, border, cOut };
}

// ---------------------------------------------------------------------------------------------

class SeedSource {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s;
  }
}

function conv(
  seeds: SeedSource | null,
  filters: number,
  activation: 'relu' | 'linear',
  name: string,
): tf.layers.Layer {
  return tf.layers.conv2d({
    filters,
    kernelSize: 3,
    padding: 'same',
    activation,
    useBias: true,
    // Keras Conv2D defaults: glorot_uniform kernel, zero bias (tfjs-layers defaults to glorotNormal, `convolutional.js:241`).
    kernelInitializer: tf.initializers.glorotUniform(seeds ? { seed: seeds.next() } : {}),
    biasInitializer: 'zeros',
    name,
  });
}

type SymT = tf.SymbolicTensor;

function apply(layer: tf.layers.Layer, x: SymT | SymT[]): SymT {
  return layer.apply(x) as SymT;
}

function convPool(x: SymT, filters: number, seeds: SeedSource | null, name: string): SymT {
  x = apply(conv(seeds, filters, 'relu', `${name}a`), x);
  x = apply(conv(seeds, filters, 'relu', `${name}b`), x);
  return apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `${name}_pool` }), x);
}

function convUp(x: SymT, filters: number, seeds: SeedSource | null, name: string): SymT {
  x = apply(conv(seeds, filters, 'relu', `${name}a`), x);
  x = apply(conv(seeds, filters, 'relu', `${name}b`), x);
  // Nearest-neighbour x2 upsampling (`model.py:331-347`).
  return apply(tf.layers.upSampling2d({ size: [2, 2], name: `${name}_up` }), x);
}

function headActivation(kind: 'amp' | 'phase', amp: AmpActivation, name: string): tf.layers.Layer {
  if (kind === 'phase') return new ScaledTanh({ scale: Math.PI, name }); // π·tanh, `model.py:410`
  return tf.layers.activation({ activation: amp, name });
}

function head(F0: SymT, kind: 'amp' | 'phase', cfg: NetworkConfig, plan: FilterPlan, seeds: SeedSource | null): SymT {
  const N = cfg.N;
  let F = F0;
  plan.trunk.forEach((filters, j) => {
    F = convUp(F, filters, seeds, `${kind}_up${j + 1}`);
  });
  if (!cfg.padObject) {
    // pad_object=False (not default): Conv-Up over all of F, conv, activation (model.py create_decoder_last).
    let x = convUp(F, plan.border, seeds, `${kind}_last_up`);
    x = apply(conv(seeds, plan.cOut, 'linear', `${kind}_conv2`), x);
    return apply(headActivation(kind, cfg.ampActivation, kind), x);
  }
  // Main branch: all but the last 4 channels (`model.py:373-402`).
  let x1 = apply(new ChannelSlice({ start: 0, end: -4, name: `${kind}_main_slice` }), F);
  x1 = apply(conv(seeds, plan.cOut, 'linear', `${kind}_conv1`), x1);
  x1 = apply(headActivation(kind, cfg.ampActivation, `${kind}_act`), x1);
  x1 = apply(tf.layers.zeroPadding2d({ padding: [[N / 4, N / 4], [N / 4, N / 4]], name: `${kind}_padded` }), x1);
  if (!cfg.probeBig) return x1;
  // Border branch: last 4 channels, Conv-Up, conv, swish for both heads, border mask (`model.py:373-402`, `tf_helper.py:1058-1089`).
  let x2 = apply(new ChannelSlice({ start: -4, end: null, name: `${kind}_border_slice` }), F);
  x2 = convUp(x2, plan.border, seeds, `${kind}_border_up`);
  x2 = apply(conv(seeds, plan.cOut, 'linear', `${kind}_conv2`), x2);
  x2 = apply(tf.layers.activation({ activation: 'swish', name: `${kind}_border_swish` }), x2);
  x2 = apply(new BorderMask({ size: N, name: `${kind}_border_mask` }), x2);
  return apply(tf.layers.add({ name: kind }), [x1, x2]);
}

/** Build the generator: input (B,N,N,C) -> [amplitude, phase], each (B,N,N,C_out). */
export function buildGenerator(cfg: NetworkConfig): tf.LayersModel {
  const plan = filterPlan(cfg.N, cfg.nFiltersScale, cfg.C, cfg.objectBig);
  const trunkOut = plan.trunk.length > 0 ? plan.trunk[plan.trunk.length - 1] : plan.encoder[plan.encoder.length - 1];
  if (cfg.padObject && trunkOut <= 4) {
    throw new Error('network: the decoder trunk needs more than 4 channels for the main/border split');
  }
  const seeds = cfg.seed === undefined ? null : new SeedSource(cfg.seed);
  const input = tf.input({ shape: [cfg.N, cfg.N, cfg.C], name: 'input' });
  let x: SymT = input;
  plan.encoder.forEach((filters, i) => {
    x = convPool(x, filters, seeds, `enc${i + 1}`);
  });
  const amp = head(x, 'amp', cfg, plan, seeds);
  const phase = head(x, 'phase', cfg, plan, seeds);
  return tf.model({ inputs: input, outputs: [amp, phase], name: 'ptychopinn_generator' });
}

/** Parameter count by the 3x3 Conv2D formula 9·c_in·c_out + c_out (the Conv2D count over `model.py:300-473`), independent of tfjs. */
export function expectedParameterCount(cfg: Omit<NetworkConfig, 'seed' | 'ampActivation'>): number {
  const plan = filterPlan(cfg.N, cfg.nFiltersScale, cfg.C, cfg.objectBig);
  const c3 = (cin: number, cout: number) => 9 * cin * cout + cout;
  let total = 0;
  let cin = cfg.C;
  for (const f of plan.encoder) {
    total += c3(cin, f) + c3(f, f);
    cin = f;
  }
  const bottleneck = cin;
  let perHead = 0;
  let c = bottleneck;
  for (const f of plan.trunk) {
    perHead += c3(c, f) + c3(f, f);
    c = f;
  }
  if (cfg.padObject) {
    perHead += c3(c - 4, plan.cOut);
    if (cfg.probeBig) perHead += c3(4, plan.border) + c3(plan.border, plan.border) + c3(plan.border, plan.cOut);
  } else {
    perHead += c3(c, plan.border) + c3(plan.border, plan.border) + c3(plan.border, plan.cOut);
  }
  return total + 2 * perHead;
}
