/// <reference lib="webworker" />
/** Generates the demo study (simulator, src/lib/sim) in a worker and transfers the NPZ bytes back. */
import { makeDemoStudy } from '../lib/sim';
import type { DemoEvent, DemoRequest } from './demo-protocol';

const post = (ev: DemoEvent, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(ev, transfer);

self.onmessage = async (msg: MessageEvent<DemoRequest>) => {
  const req = msg.data;
  if (req.type !== 'make') return;
  try {
    const study = await makeDemoStudy(req.size, {
      seed: req.seed,
      onProgress: (p: { message: string; fraction: number }) => post({ type: 'progress', id: req.id, message: p.message, fraction: p.fraction }),
    });
    const files = study.files.map((f) => ({ path: f.path, bytes: f.bytes }));
    post({ type: 'done', id: req.id, files, description: String(study.description ?? '') }, files.map((f) => f.bytes.buffer as ArrayBuffer));
  } catch (err) {
    post({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) });
  }
};
