/**
 * Records the largest allocation made while armed: `new` of every typed array, ArrayBuffer and Array
 * (globals replaced by Proxies whose construct trap measures the request before allocating), plus
 * TypedArray.prototype.slice (measured after). Code that captured a constructor before install
 * (Node's internals, fflate's `u8`) is not seen; everything in src/lib/ingest is.
 */
const CTORS = ['ArrayBuffer', 'Array', 'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array',
  'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'] as const;

type AnyCtor = (new (...args: unknown[]) => object) & { BYTES_PER_ELEMENT?: number };
const g = globalThis as unknown as Record<string, unknown>;

export interface AllocGuard {
  /** Runs `f` armed; returns its result. */
  run<T>(f: () => Promise<T>): Promise<T>;
  /** Largest allocation seen while armed, in bytes, and what made it. */
  readonly max: { bytes: number; what: string };
  reset(): void;
  uninstall(): void;
}

export function installAllocGuard(): AllocGuard {
  let armed = 0;
  const max = { bytes: 0, what: '' };
  const record = (what: string, bytes: number) => {
    if (armed > 0 && bytes > max.bytes) { max.bytes = bytes; max.what = what; }
  };
  const saved = new Map<string, unknown>();
  for (const name of CTORS) {
    const C = g[name] as AnyCtor;
    saved.set(name, C);
    const bpe = name === 'ArrayBuffer' ? 1 : name === 'Array' ? 8 : C.BYTES_PER_ELEMENT!;
    const proxy: unknown = new Proxy(C, {
      construct(target, args, newTarget) {
        const a0 = args[0] as unknown;
        let n = 0;
        if (name === 'Array') n = args.length === 1 && typeof a0 === 'number' ? a0 : args.length;
        else if (typeof a0 === 'number') n = a0;
        else if (a0 !== null && typeof a0 === 'object' && !(a0 instanceof (saved.get('ArrayBuffer') as AnyCtor)) &&
          !(typeof SharedArrayBuffer !== 'undefined' && a0 instanceof SharedArrayBuffer) &&
          typeof (a0 as { length?: unknown }).length === 'number') n = (a0 as { length: number }).length;
        record(`new ${name}(${n})`, n * bpe);
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget);
      },
    });
    g[name] = proxy;
  }
  const TA = Object.getPrototypeOf(Uint8Array.prototype) as { slice: (this: ArrayBufferView, s?: number, e?: number) => ArrayBufferView };
  const slice = TA.slice;
  TA.slice = function (this: ArrayBufferView, s?: number, e?: number) {
    const r = slice.call(this, s, e);
    record(`slice(${r.byteLength})`, r.byteLength);
    return r;
  };
  return {
    async run(f) {
      armed++;
      try { return await f(); } finally { armed--; }
    },
    max,
    reset() { max.bytes = 0; max.what = ''; },
    uninstall() {
      for (const [name, C] of saved) g[name] = C;
      TA.slice = slice;
    },
  };
}
