/**
 * What "agree" means for compare()'s figures (test/e2e/pages/backends.ts; the reasons are in
 * test/e2e/backends.spec.ts): one set of tolerances for WebGPU in Chromium and WebGPU in Node on Dawn
 * (test/lib/runtime/node-webgpu.test.ts).
 */
export const BACKEND_TOLERANCES = { loss: 1e-5, intensity: 1e-5, trimmed: 1e-5, gradVar: 2e-2, gradNorm: 5e-3 } as const;
