/**
 * WebGPU adapter discovery. Works in the page, in workers and in Node (with a `navigator.gpu`
 * provided by the `webgpu` package). Knows nothing about tfjs: it only tells what the machine has.
 */

export interface AdapterReport {
  /** 'webgpu' when an adapter was granted, 'none' otherwise. */
  kind: 'webgpu' | 'none';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (SwiftShader, llvmpipe, WARP, or a fallback adapter): correct but slow. */
  software: boolean;
  /** Why no adapter was found, in words, when kind is 'none'. */
  reason?: string;
  /** Limits that matter for training: the largest storage buffer and buffer the adapter allows. */
  maxStorageBufferBindingSize?: number;
  maxBufferSize?: number;
}

const SOFTWARE_PATTERN = /swiftshader|llvmpipe|lavapipe|softpipe|warp|software|basic render/i;

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Decide from the adapter's info whether it is a software implementation. */
export function isSoftwareAdapter(info: AdapterInfoLike, isFallback = false): boolean {
  if (isFallback || info.isFallbackAdapter) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return SOFTWARE_PATTERN.test(text);
}

/** One line that names the adapter for people, e.g. "google swiftshader (software)". */
export function describeAdapter(r: AdapterReport): string {
  if (r.kind === 'none') return `No WebGPU adapter${r.reason ? `: ${r.reason}` : ''}`;
  const parts = [r.vendor, r.architecture, r.device, r.description].filter((s) => s && s.length > 0);
  const uniq = [...new Set(parts)];
  const name = uniq.length > 0 ? uniq.join(' ') : 'unnamed adapter';
  return r.software ? `${name} (software)` : name;
}

export async function probeWebGPU(gpu: GPU | undefined = (globalThis.navigator as Navigator | undefined)?.gpu): Promise<AdapterReport> {
  const none = (reason: string): AdapterReport => ({
    kind: 'none', vendor: '', architecture: '', device: '', description: '', software: false, reason,
  });
  if (!gpu) return none('this browser does not expose navigator.gpu (WebGPU is off or unsupported)');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return none(`requestAdapter failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!adapter) return none('the browser granted no adapter (blocklisted GPU or WebGPU disabled)');
  const a = adapter as GPUAdapter & { info?: AdapterInfoLike; isFallbackAdapter?: boolean };
  const info: AdapterInfoLike = a.info ?? {};
  return {
    kind: 'webgpu',
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info, a.isFallbackAdapter === true),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}
