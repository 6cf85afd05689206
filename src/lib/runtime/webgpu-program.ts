/**
 * The frame our flat WGSL programs share (src/lib/runtime/webgpu-conv.ts, webgpu-matmul.ts,
 * webgpu-ops.ts): one invocation per thread index (`fn main(i : i32)`), `threads` of them in
 * workgroups of WG along x, the output written as vec4 unless said. Each program gives its shader
 * key (which must name every constant its code is specialised on), output shape, inputs, uniforms,
 * thread count and code.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Workgroup size of our flat programs. */
export const WG = 64;

/** One int32 uniform for runWebGPUProgram. */
export function i32(v: number): { type: 'int32'; data: number[] } {
  return { type: 'int32', data: [v] };
}

export abstract class FlatProgram implements WebGPUProgram {
  readonly dispatchLayout = { x: [0] };
  readonly workgroupSize: [number, number, number] = [WG, 1, 1];
  readonly dispatch: [number, number, number];
  readonly shaderKey: string;
  readonly outputShape: number[];
  readonly variableNames: string[];
  readonly uniforms: string;
  readonly outputComponent?: number;
  variableComponents?: number[];

  constructor(o: { key: string; outputShape: number[]; inputs: string[]; uniforms: string; threads: number; vec4Output?: boolean }) {
    this.shaderKey = o.key;
    this.outputShape = o.outputShape;
    this.variableNames = o.inputs;
    this.uniforms = o.uniforms;
    this.dispatch = [Math.ceil(o.threads / WG), 1, 1];
    if (o.vec4Output ?? true) this.outputComponent = 4;
  }

  abstract getUserCode(): string;
}
