/**
 * Persistence of runs in IndexedDB (usable from the page and from workers): the run plan, each
 * job's result, every artifact the jobs write, and per-epoch checkpoints. A reload or a crash
 * loses at most the epoch in progress.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ArtifactSink } from '../lib/study/runner';

export const DB_NAME = 'ptychopinn-studio';
const DB_VERSION = 1;

export type RunState = 'running' | 'finished' | 'cancelled' | 'interrupted';

export interface StoredRun {
  id: string;
  created: string;
  updated: string;
  state: RunState;
  /** Everything needed to rebuild the manifest and resume: plan, filters, settings (JSON-safe). */
  plan: unknown;
}

export interface StoredResult {
  key: string;          // `${runId}|${jobKey}`
  runId: string;
  jobKey: string;
  result: Record<string, unknown>;
  updated: string;
}

export interface StoredCheckpoint {
  key: string;          // `${runId}|${jobKey}`
  runId: string;
  jobKey: string;
  epoch: number;
  state: unknown;       // runner-defined (weights as ArrayBuffers, optimiser state, history)
  updated: string;
}

interface StudioDB extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { created: string } };
  results: { key: string; value: StoredResult; indexes: { runId: string } };
  artifacts: { key: string; value: { key: string; runId: string; path: string; bytes: Uint8Array }; indexes: { runId: string } };
  checkpoints: { key: string; value: StoredCheckpoint; indexes: { runId: string } };
}

let dbPromise: Promise<IDBPDatabase<StudioDB>> | null = null;

export function db(): Promise<IDBPDatabase<StudioDB>> {
  dbPromise ??= openDB<StudioDB>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      d.createObjectStore('runs', { keyPath: 'id' }).createIndex('created', 'created');
      d.createObjectStore('results', { keyPath: 'key' }).createIndex('runId', 'runId');
      d.createObjectStore('artifacts', { keyPath: 'key' }).createIndex('runId', 'runId');
      d.createObjectStore('checkpoints', { keyPath: 'key' }).createIndex('runId', 'runId');
    },
  });
  return dbPromise;
}

const now = () => new Date().toISOString();

export async function putRun(run: Omit<StoredRun, 'updated'>): Promise<void> {
  await (await db()).put('runs', { ...run, updated: now() });
}

export async function setRunState(id: string, state: RunState): Promise<void> {
  const d = await db();
  const run = await d.get('runs', id);
  if (run) await d.put('runs', { ...run, state, updated: now() });
}

export async function latestRun(): Promise<StoredRun | undefined> {
  const d = await db();
  const all = await d.getAllFromIndex('runs', 'created');
  return all.at(-1);
}

export async function putResult(runId: string, jobKey: string, result: Record<string, unknown>): Promise<void> {
  await (await db()).put('results', { key: `${runId}|${jobKey}`, runId, jobKey, result, updated: now() });
}

export async function resultsOf(runId: string): Promise<StoredResult[]> {
  return (await db()).getAllFromIndex('results', 'runId', runId);
}

export async function putCheckpoint(runId: string, jobKey: string, epoch: number, state: unknown): Promise<void> {
  await (await db()).put('checkpoints', { key: `${runId}|${jobKey}`, runId, jobKey, epoch, state, updated: now() });
}

export async function checkpointOf(runId: string, jobKey: string): Promise<StoredCheckpoint | undefined> {
  return (await db()).get('checkpoints', `${runId}|${jobKey}`);
}

/** Every checkpoint of a run (the jobs a reload interrupted), by job key. */
export async function checkpointsOf(runId: string): Promise<Map<string, StoredCheckpoint>> {
  const rows = await (await db()).getAllFromIndex('checkpoints', 'runId', runId);
  return new Map(rows.map((c) => [c.jobKey, c]));
}

export async function deleteCheckpoint(runId: string, jobKey: string): Promise<void> {
  await (await db()).delete('checkpoints', `${runId}|${jobKey}`);
}

export async function artifactsOf(runId: string): Promise<{ path: string; bytes: Uint8Array }[]> {
  const rows = await (await db()).getAllFromIndex('artifacts', 'runId', runId);
  return rows.map((r) => ({ path: r.path, bytes: r.bytes })).sort((a, b) => a.path.localeCompare(b.path));
}

export async function deleteRun(runId: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['runs', 'results', 'artifacts', 'checkpoints'], 'readwrite');
  await tx.objectStore('runs').delete(runId);
  for (const store of ['results', 'artifacts', 'checkpoints'] as const) {
    const s = tx.objectStore(store);
    for (const key of await s.index('runId').getAllKeys(runId)) await s.delete(key);
  }
  await tx.done;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An ArtifactSink that writes straight into IndexedDB, so artifacts survive a reload. */
export function idbSink(runId: string): ArtifactSink {
  const key = (path: string) => `${runId}|${path}`;
  const put = async (path: string, bytes: Uint8Array) =>
    (await db()).put('artifacts', { key: key(path), runId, path, bytes });
  const get = async (path: string) => (await (await db()).get('artifacts', key(path)))?.bytes;
  return {
    async mkdir() { /* directories are implicit in keys */ },
    writeText: (path, text) => put(path, encoder.encode(text)).then(() => undefined),
    writeBytes: (path, bytes) => put(path, bytes).then(() => undefined),
    async appendText(path, text) {
      const old = await get(path);
      await put(path, encoder.encode((old ? decoder.decode(old) : '') + text));
    },
    exists: async (path) => (await get(path)) !== undefined,
    readBytes: get,
  };
}
