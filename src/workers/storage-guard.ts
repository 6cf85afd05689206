/**
 * Every write of a job (artifacts and checkpoints) goes through a StorageGuard, so that a full store
 * is noticed and named: the first QuotaExceededError of a job is kept to give the job its reason.
 * For the fault tests (train-protocol.ts FaultPlan.quotaBytes) `room` limits how many more bytes
 * the store accepts while the faulted job runs.
 */
import type { ArtifactSink } from '../lib/study/runner';

export const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}

/** Bytes a value takes in the store, roughly: binary buffers exactly, text by its length. */
export function approxBytes(v: unknown, depth = 0): number {
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null || depth > 16) return 8;
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += approxBytes(x, depth + 1);
  return n;
}

export const storageFullReason = (what: string, error: string): string =>
  `storage full: the browser refused to store ${what} (${error}). Finished results are kept; free some space ` +
  '(delete old runs or this site\'s data) and run this job again.';

export class StorageGuard {
  room: number | null = null;
  full: { what: string; error: string } | null = null;

  async write<T>(what: string, bytes: number, op: () => Promise<T>): Promise<T> {
    try {
      if (this.room !== null) {
        if (bytes > this.room) {
          throw new DOMException(
            `(injected fault) the store has room for ${this.room} more bytes; writing ${what} needs ${bytes}`, 'QuotaExceededError');
        }
        this.room -= bytes;
      }
      return await op();
    } catch (e) {
      if (isQuotaError(e)) this.full ??= { what, error: errText(e) };
      throw e;
    }
  }

  sink(inner: ArtifactSink): ArtifactSink {
    const enc = new TextEncoder();
    return {
      ...inner,
      mkdir: (path) => inner.mkdir(path),
      exists: (path) => inner.exists(path),
      readBytes: (path) => inner.readBytes(path),
      writeText: (path, text) => this.write(path, enc.encode(text).length, () => inner.writeText(path, text)),
      writeBytes: (path, bytes) => this.write(path, bytes.length, () => inner.writeBytes(path, bytes)),
      appendText: (path, text) => this.write(path, enc.encode(text).length, () => inner.appendText(path, text)),
    };
  }
}
