/**
 * The page's side of a request/response worker (plan, demo): each request carries an id, the worker
 * answers it with any number of progress messages and then one answer or one error, all echoing the
 * id. A worker that dies fails every pending request with the reason and is started again on the
 * next request. (The training worker is an event channel instead: ./train-protocol.ts.)
 */
export type Settle<Res, T> = (r: Res) => { value: T } | { error: string } | null;

export class WorkerClient<Req extends { id: number }, Res extends { id: number }> {
  private worker: Worker | null = null;
  private seq = 0;
  private pending = new Map<number, { onReply: (r: Res) => void; fail: (e: Error) => void }>();

  /** `what` names the worker in the crash message ("the planning worker"). */
  constructor(private readonly what: string, private readonly spawn: () => Worker) {}

  /** A fresh request id. */
  nextId(): number {
    return ++this.seq;
  }

  /** Whether a request with this id still waits for its answer. */
  waiting(id: number): boolean {
    return this.pending.has(id);
  }

  /** Send a request; `settle` turns each reply into the answer, an error, or null (progress: not yet). */
  request<T>(req: Req, settle: Settle<Res, T>, transfer: Transferable[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req.id, {
        fail: reject,
        onReply: (r) => {
          const s = settle(r);
          if (s === null) return;
          this.pending.delete(req.id);
          if ('value' in s) resolve(s.value);
          else reject(new Error(s.error));
        },
      });
      this.ensure().postMessage(req, transfer);
    });
  }

  /** A message that expects no answer (a cancel). */
  post(msg: Req): void {
    this.ensure().postMessage(msg);
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.spawn();
    w.onmessage = (m: MessageEvent<Res>) => this.pending.get(m.data.id)?.onReply(m.data);
    w.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`${this.what[0].toUpperCase()}${this.what.slice(1)} crashed: ${e.message || 'no message'}`);
      for (const p of this.pending.values()) p.fail(err);
      this.pending.clear();
      this.terminate();
    };
    this.worker = w;
    return w;
  }
}
