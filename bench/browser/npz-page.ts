/**
 * The page side of the browser NPZ benchmark (bench/browser/npz.html): the File objects of the
 * folder chosen in its `webkitdirectory` input go to a worker, as the app hands dropped or picked
 * files to its workers, and the worker reads every member of one of them with openNpz.
 */
import type { NpzLoadRequest, NpzLoadResult } from './npz.worker.ts';

const worker = new Worker(new URL('./npz.worker.ts', import.meta.url), { type: 'module' });
let nextId = 0;
const waiting = new Map<number, (r: NpzLoadResult) => void>();
worker.onmessage = (m: MessageEvent<NpzLoadResult>) => {
  waiting.get(m.data.id)?.(m.data);
  waiting.delete(m.data.id);
};

function picked(): File[] {
  return [...((document.getElementById('pick') as HTMLInputElement).files ?? [])];
}

const api = {
  /** name, size and the path within the chosen folder of every picked file */
  files: () => picked().map((f) => ({ name: f.name, size: f.size, path: f.webkitRelativePath })),
  /** Loads every member of the picked file `name` in the worker (or, mode 'bytes', only reads the file). */
  load(name: string, opts: NpzLoadRequest['opts'] = {}, mode: NpzLoadRequest['mode'] = 'read'): Promise<NpzLoadResult> {
    const file = picked().find((f) => f.name === name);
    if (!file) return Promise.reject(new Error(`no picked file named ${name}`));
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      worker.postMessage({ id, file, opts, mode } satisfies NpzLoadRequest);
    });
  },
};

declare global {
  interface Window {
    __npz: typeof api;
    __npzReady: boolean;
  }
}
window.__npz = api;
window.__npzReady = true;
