/**
 * Our WGSL batched matrix product for the tfjs WebGPU backend (BatchMatMul), for the physics chain's
 * products (the merge and extract operators, the DFT; src/lib/physics/forward.ts, dft.ts) and their
 * gradients: float32, any transposes, equal batches or a batch of 1 broadcast against the other
 * operand. Anything else goes to tfjs' kernel.
 *
 * Each thread computes a 4 x 4 block of C = op(A)·op(B) with no workgroup memory or barriers: where
 * M, N and K are multiples of 4 it reads 4 x 4 blocks of A and B as vec4s along whichever axis is
 * contiguous in memory, else scalars clamped at the edges. tfjs 4.22's
 * MatMulPackedProgram (tfjs-backend-webgpu `matmul_packed_webgpu.ts`) tiles through workgroup memory
 * with barriers, which a software adapter (SwiftShader) runs as coroutines: it was the fifth-slowest
 * kernel of the Reference step in the profile (docs/lab/2026-12-06-webgpu-kernels.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FlatProgram } from './webgpu-program';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

class MatMulProgram extends FlatProgram {
  private readonly ta: boolean;
  private readonly tb: boolean;

  constructor(batch: number, M: number, N: number, ta: boolean, tb: boolean) {
    super({
      key: `ptycho_matmul_${ta}_${tb}`, outputShape: [batch, M, N], inputs: ['A', 'B'],
      uniforms: 'M4 : i32, N4 : i32, K4 : i32, aBatch : i32, bBatch : i32, threads : i32,', threads: (batch * M * N) / 16,
    });
    this.variableComponents = [4, 4];
    this.ta = ta;
    this.tb = tb;
  }

  getUserCode(): string {
    // A is [M, K] (or [K, M] when transposed), B is [K, N] (or [N, K]); in vec4 units.
    const aLoads = this.ta
      ? 'let a0 = A[aBase + (k + 0) * uniforms.M4 + m4]; let a1 = A[aBase + (k + 1) * uniforms.M4 + m4]; let a2 = A[aBase + (k + 2) * uniforms.M4 + m4]; let a3 = A[aBase + (k + 3) * uniforms.M4 + m4];'
      : 'let a0 = A[aBase + (m + 0) * uniforms.K4 + k4]; let a1 = A[aBase + (m + 1) * uniforms.K4 + k4]; let a2 = A[aBase + (m + 2) * uniforms.K4 + k4]; let a3 = A[aBase + (m + 3) * uniforms.K4 + k4];';
    const bLoads = this.tb
      ? 'let b0 = B[bBase + (n + 0) * uniforms.K4 + k4]; let b1 = B[bBase + (n + 1) * uniforms.K4 + k4]; let b2 = B[bBase + (n + 2) * uniforms.K4 + k4]; let b3 = B[bBase + (n + 3) * uniforms.K4 + k4];'
      : 'let b0 = B[bBase + (k + 0) * uniforms.N4 + n4]; let b1 = B[bBase + (k + 1) * uniforms.N4 + n4]; let b2 = B[bBase + (k + 2) * uniforms.N4 + n4]; let b3 = B[bBase + (k + 3) * uniforms.N4 + n4];';
    // Row i of the A block as a vec4 over k: a_i directly, or gathered from the transposed block.
    const aRow = (i: number) => (this.ta ? `vec4<f32>(a0[${i}], a1[${i}], a2[${i}], a3[${i}])` : `a${i}`);
    const update = (i: number) => this.tb
      ? `c${i} = c${i} + vec4<f32>(dot(r${i}, b0), dot(r${i}, b1), dot(r${i}, b2), dot(r${i}, b3));`
      : `c${i} = c${i} + r${i}.x * b0 + r${i}.y * b1 + r${i}.z * b2 + r${i}.w * b3;`;
    return `
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let n4 = index % uniforms.N4;
        var r = index / uniforms.N4;
        let m4 = r % uniforms.M4;
        let batch = r / uniforms.M4;
        let m = m4 * 4;
        let n = n4 * 4;
        let M = uniforms.M4 * 4;
        let N = uniforms.N4 * 4;
        let K = uniforms.K4 * 4;
        let aBase = select(batch, 0, uniforms.aBatch == 1) * M * uniforms.K4;
        let bBase = select(batch, 0, uniforms.bBatch == 1) * K * uniforms.N4;
        var c0 = vec4<f32>(0.0);
        var c1 = vec4<f32>(0.0);
        var c2 = vec4<f32>(0.0);
        var c3 = vec4<f32>(0.0);
        for (var k4 = 0; k4 < uniforms.K4; k4++) {
          let k = k4 * 4;
          ${aLoads}
          ${bLoads}
          let r0 = ${aRow(0)}; let r1 = ${aRow(1)}; let r2 = ${aRow(2)}; let r3 = ${aRow(3)};
          ${[0, 1, 2, 3].map(update).join('\n          ')}
        }
        let o = (batch * M + m) * uniforms.N4 + n4;
        result[o] = c0;
        result[o + uniforms.N4] = c1;
        result[o + 2 * uniforms.N4] = c2;
        result[o + 3 * uniforms.N4] = c3;
      }
    `;
  }
}

/**
 * The same product for any M, N, K: scalar loads (clamped at the edges), a 4 x 4 block per thread,
 * writes masked at the edges. Used where a dimension is not a multiple of 4 (the physics canvas,
 * P = N + (gridsize − 1)·offset + jitter = 78 for the Reference preset).
 */
class MatMulGeneralProgram extends FlatProgram {
  private readonly ta: boolean;
  private readonly tb: boolean;

  constructor(batch: number, M: number, N: number, ta: boolean, tb: boolean) {
    super({
      key: `ptycho_matmul_general_${ta}_${tb}`, outputShape: [batch, M, N], inputs: ['A', 'B'],
      uniforms: 'M : i32, N : i32, K : i32, mTiles : i32, nTiles : i32, aBatch : i32, bBatch : i32, threads : i32,',
      threads: batch * Math.ceil(M / 4) * Math.ceil(N / 4), vec4Output: false,
    });
    this.ta = ta;
    this.tb = tb;
  }

  getUserCode(): string {
    const a = (m: string) => (this.ta ? `A[aBase + k * uniforms.M + ${m}]` : `A[aBase + ${m} * uniforms.K + k]`);
    const b = (n: string) => (this.tb ? `B[bBase + ${n} * uniforms.K + k]` : `B[bBase + k * uniforms.N + ${n}]`);
    const stores = [0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].map((j) =>
      `if (m0 + ${i} < uniforms.M && n0 + ${j} < uniforms.N) { result[(batch * uniforms.M + m0 + ${i}) * uniforms.N + n0 + ${j}] = c${i}[${j}]; }`)).join('\n        ');
    return `
      fn main(index : i32) {
        if (index >= uniforms.threads) { return; }
        let nt = index % uniforms.nTiles;
        var r = index / uniforms.nTiles;
        let mt = r % uniforms.mTiles;
        let batch = r / uniforms.mTiles;
        let m0 = mt * 4;
        let n0 = nt * 4;
        let aBase = select(batch, 0, uniforms.aBatch == 1) * uniforms.M * uniforms.K;
        let bBase = select(batch, 0, uniforms.bBatch == 1) * uniforms.K * uniforms.N;
        let mA = min(m0, uniforms.M - 1); let mB = min(m0 + 1, uniforms.M - 1); let mC = min(m0 + 2, uniforms.M - 1); let mD = min(m0 + 3, uniforms.M - 1);
        let nA = min(n0, uniforms.N - 1); let nB = min(n0 + 1, uniforms.N - 1); let nC = min(n0 + 2, uniforms.N - 1); let nD = min(n0 + 3, uniforms.N - 1);
        var c0 = vec4<f32>(0.0);
        var c1 = vec4<f32>(0.0);
        var c2 = vec4<f32>(0.0);
        var c3 = vec4<f32>(0.0);
        for (var k = 0; k < uniforms.K; k++) {
          let av = vec4<f32>(${a('mA')}, ${a('mB')}, ${a('mC')}, ${a('mD')});
          let bv = vec4<f32>(${b('nA')}, ${b('nB')}, ${b('nC')}, ${b('nD')});
          c0 = c0 + av.x * bv;
          c1 = c1 + av.y * bv;
          c2 = c2 + av.z * bv;
          c3 = c3 + av.w * bv;
        }
        ${stores}
      }
    `;
  }
}

/** C = op(A)·op(B) for rank-3 A, B (batch 1 broadcasts), or null where this kernel does not apply. */
export function runMatMul(backend: WebGPUBackend, a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ar = a.shape.length;
  const br = b.shape.length;
  const M = ta ? a.shape[ar - 1] : a.shape[ar - 2];
  const K = ta ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = tb ? b.shape[br - 1] : b.shape[br - 2];
  const N = tb ? b.shape[br - 2] : b.shape[br - 1];
  if (K !== Kb || M === 0 || N === 0 || K === 0) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  // Only broadcasts of a whole batch of 1 (or equal outer shapes) are handled here.
  const outer = batchA >= batchB ? outerA : outerB;
  if (batchA === batchB && outerA.join() !== outerB.join()) return null;
  const batch = Math.max(batchA, batchB);
  let out: tf.TensorInfo;
  if (M % 4 === 0 && N % 4 === 0 && K % 4 === 0) {
    const threads = (batch * M * N) / 16;
    const u = [M / 4, N / 4, K / 4, batchA, batchB, threads].map((v) => ({ type: 'int32', data: [v] }));
    out = backend.runWebGPUProgram(new MatMulProgram(batch, M, N, ta, tb), [a, b], 'float32', u);
  } else {
    const mTiles = Math.ceil(M / 4);
    const nTiles = Math.ceil(N / 4);
    const u = [M, N, K, mTiles, nTiles, batchA, batchB, batch * mTiles * nTiles].map((v) => ({ type: 'int32', data: [v] }));
    out = backend.runWebGPUProgram(new MatMulGeneralProgram(batch, M, N, ta, tb), [a, b], 'float32', u);
  }
  return { ...out, shape: [...outer, M, N] };
}

let original: tf.KernelConfig | undefined;
let enabled = () => true;

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const a = args.inputs['a'] as tf.TensorInfo;
  const b = args.inputs['b'] as tf.TensorInfo;
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const out = enabled() ? runMatMul(args.backend as WebGPUBackend, a, b, !!transposeA, !!transposeB) : null;
  return out ?? (original!.kernelFunc(args as never) as tf.TensorInfo);
}

/** Register BatchMatMul for 'webgpu' (idempotent); `isOn` is read at every call. */
export function installWebGpuMatMul(isOn: () => boolean = () => true): void {
  enabled = isOn;
  if (original) return;
  original = tf.getKernel('BatchMatMul', 'webgpu');
  if (!original) throw new Error('the WebGPU backend has no BatchMatMul kernel to replace');
  tf.unregisterKernel('BatchMatMul', 'webgpu');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'webgpu', kernelFunc: batchMatMul as unknown as tf.KernelFunc });
}

/** Put tfjs' own BatchMatMul back. */
export function uninstallWebGpuMatMul(): void {
  if (!original) return;
  tf.unregisterKernel('BatchMatMul', 'webgpu');
  tf.registerKernel(original);
  original = undefined;
}
