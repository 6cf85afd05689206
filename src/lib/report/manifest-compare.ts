/**
 * "The same manifest apart from timings": two training_manifest.json of one study (one job at a
 * time and side by side, the app and the CLI) must agree in everything that training and scoring
 * compute, and may differ in what depends on the clock. One definition of "the clock's" for
 * `npm run bench:demo-study -- --jobs compare`, test/cli/jobs.test.ts and test/e2e/one-loop.spec.ts.
 * DOM-free; works on the parsed JSON.
 */

/**
 * Keys (at any depth) whose values are timings, or depend on them:
 *
 * - `timestamp`: the manifest's own date (src/lib/report/manifest.ts).
 * - `started_at`, `finished_at`, `duration_seconds`: a job's wall clock (src/lib/pipeline/runner.ts).
 * - `samples_per_second`: the measured training rate (a result's, an epoch record's).
 * - `seconds`: an epoch record's wall seconds (src/lib/model/train.ts).
 * - `training_seconds`, `step_seconds`, `epoch_seconds`: seconds under other names (not written by
 *   this app today; the comparisons stripped them, so a manifest that carries them compares the same).
 * - `bundle_sha256`, `bundle_size_bytes`: the bundle's zip holds model.json, where tfjs records
 *   `dateSaved`, so its hash and (deflated) size change from one save to the next.
 * - `ssim_history`: the live scores, whose epochs are picked from measured cost (the runner scores
 *   every k epochs, k from the time of a scoring against an epoch's time: runner.ts trainStage), so
 *   which epochs it lists depends on the machine's speed.
 */
export const MANIFEST_TIMING_KEYS: ReadonlySet<string> = new Set([
  'timestamp',
  'started_at', 'finished_at', 'duration_seconds',
  'samples_per_second',
  'seconds',
  'training_seconds', 'step_seconds', 'epoch_seconds',
  'bundle_sha256', 'bundle_size_bytes',
  'ssim_history',
]);

/** A copy of `manifest` (any JSON value) without the timing keys (MANIFEST_TIMING_KEYS), at any depth. */
export function withoutTimings<T>(manifest: T): T {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => !MANIFEST_TIMING_KEYS.has(k)).map(([k, x]) => [k, strip(x)]));
  };
  return strip(manifest) as T;
}

export interface DifferenceOptions {
  /** Numbers within this relative difference count as equal (default 0: only equal numbers). */
  relTol?: number;
  /** Stop after this many differences (default: all). */
  max?: number;
}

/**
 * Where two JSON values differ, as lines `/jobs/0/result/final_loss: 0.1 vs 0.2` (a path, then both
 * values); empty when they are equal. A key missing on one side and `undefined` on the other count as equal.
 */
export function jsonDifferences(a: unknown, b: unknown, opts: DifferenceOptions = {}): string[] {
  const relTol = opts.relTol ?? 0;
  const max = opts.max ?? Infinity;
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, at: string): void => {
    if (out.length >= max) return;
    if (typeof x === 'number' && typeof y === 'number') {
      if (!(Object.is(x, y) || x === y || Math.abs(x - y) <= relTol * Math.max(Math.abs(x), Math.abs(y)))) out.push(`${at}: ${x} vs ${y}`);
    } else if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) {
      if (Array.isArray(x) !== Array.isArray(y)) {
        out.push(`${at}: ${Array.isArray(x) ? 'array' : 'object'} vs ${Array.isArray(y) ? 'array' : 'object'}`);
        return;
      }
      const xr = x as Record<string, unknown>;
      const yr = y as Record<string, unknown>;
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(xr[k], yr[k], `${at}/${k}`);
    } else if (x !== y) {
      out.push(`${at}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  };
  walk(a, b, '');
  return out;
}

/** Where two manifests differ apart from timings (jsonDifferences of both withoutTimings); empty when they agree. */
export function manifestDifferences(a: unknown, b: unknown, opts: DifferenceOptions = {}): string[] {
  return jsonDifferences(withoutTimings(a), withoutTimings(b), opts);
}
