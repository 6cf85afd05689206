/// <reference lib="webworker" />
/**
 * Reads every member of a File with the app's reader (openNpz on the Blob, as the app's workers do)
 * and reports the time, per member too, and the float64 sum of every array for the comparison with
 * numpy's.
 */
import { openNpz, type OpenNpzOptions } from '../../src/lib/ingest/index.ts';
import { sumOf } from '../npz-sum.ts';

export interface NpzLoadRequest {
  id: number;
  file: File;
  opts: Pick<OpenNpzOptions, 'inflate' | 'checkCrc' | 'blobReads'>;
  /** 'bytes': only File.arrayBuffer() of the whole file, the least any reader pays to get its bytes here. */
  mode?: 'read' | 'bytes';
}

export interface NpzLoadResult {
  id: number;
  ms: number;
  bytes: number;
  members: { key: string; ms: number; bytes: number }[];
  sums: Record<string, number>;
  error?: string;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (m: MessageEvent<NpzLoadRequest>) => {
  const { id, file, opts, mode } = m.data;
  const res: NpzLoadResult = { id, ms: 0, bytes: 0, members: [], sums: {} };
  const arrays = [];
  try {
    const t0 = performance.now();
    if (mode === 'bytes') {
      res.bytes = (await file.arrayBuffer()).byteLength;
      res.ms = performance.now() - t0;
      scope.postMessage(res);
      return;
    }
    const z = await openNpz(file, file.name, opts);
    for (const key of z.keys) {
      const t = performance.now();
      const a = await z.read(key);
      const bytes = Array.isArray(a.data) ? 0 : a.data.byteLength;
      res.members.push({ key, ms: performance.now() - t, bytes });
      res.bytes += bytes;
      arrays.push([key, a] as const);
    }
    res.ms = performance.now() - t0;
    for (const [key, a] of arrays) res.sums[key] = sumOf(a);
  } catch (e) {
    res.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  scope.postMessage(res);
};
