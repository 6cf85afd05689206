/**
 * A restricted pickle reader for exactly one shape: a 0-d numpy object array holding one Python str,
 * as `np.save(np.array(json_text, dtype=object))` writes it (Phase C `_metadata`).
 *
 * Nothing is ever called: the few globals numpy's pickle names (`numpy.core.multiarray._reconstruct`,
 * `numpy.ndarray`, `numpy.dtype`, and `_codecs.encode` which protocol 2 uses for the bytes b'b') are
 * symbols, and REDUCE/BUILD on them are checked against the exact arguments numpy writes. Any other
 * opcode, global, argument or result is refused with 'unsupported_pickle'.
 *
 * numpy's pickle of such an array (protocol 3, from `pickletools.dis`):
 *   GLOBAL 'numpy.core.multiarray _reconstruct'; GLOBAL 'numpy ndarray'; (0,); b'b'; TUPLE3; REDUCE
 *   MARK 1 () GLOBAL 'numpy dtype' ('O8', False, True) REDUCE (3, '|', None, None, None, -1, -1, 63) BUILD
 *        False [ 'the string' ] TUPLE BUILD STOP
 * Protocol 4/5 use SHORT_BINUNICODE + STACK_GLOBAL + MEMOIZE inside a FRAME; protocol 2 spells b'b'
 * as _codecs.encode('b', 'latin1'). numpy >= 2 names the module numpy._core.multiarray.
 */
import { IngestError } from './types.ts';

interface Ctx {
  file: string;
  member: string | undefined;
}

type Sym = { k: 'global'; name: string };
type Bytes = { k: 'bytes'; v: Uint8Array };
type Tuple = { k: 'tuple'; items: Val[] };
type List = { k: 'list'; items: Val[] };
type EmptyArray = { k: 'ndarray0' };
type DTypeO = { k: 'dtypeO' };
type Built = { k: 'array'; value: string };
type Mark = { k: 'mark' };
type Val = string | number | boolean | null | Sym | Bytes | Tuple | List | EmptyArray | DTypeO | Built | Mark;

const ALLOWED_GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.ndarray',
  'numpy.dtype',
  '_codecs.encode',
]);

const OPNAMES: Record<number, string> = {
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD', 0x69: 'INST', 0x6f: 'OBJ',
  0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x7d: 'EMPTY_DICT', 0x64: 'DICT', 0x73: 'SETITEM', 0x75: 'SETITEMS',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x4c: 'LONG', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x47: 'BINFLOAT', 0x46: 'FLOAT', 0x49: 'INT', 0x53: 'STRING', 0x56: 'UNICODE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Returns the string held by a pickled 0-d object array, or throws IngestError('unsupported_pickle'). */
export function readObjectPickle(b: Uint8Array, ctx: Ctx): string {
  const fail = (detail: string): never => {
    throw new IngestError('unsupported_pickle', ctx.file, ctx.member, `object array not read (pickles are never executed; only a 0-d array holding one string is understood): ${detail}`);
  };
  const stack: Val[] = [];
  const memo = new Map<number, Val>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let p = 0;
  const need = (n: number) => {
    if (p + n > b.length) fail('the pickle ends early');
  };
  const u8 = () => { need(1); return b[p++]; };
  const u16 = () => { need(2); const v = b[p] | (b[p + 1] << 8); p += 2; return v; };
  const u32 = () => { need(4); const v = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 2 ** 24; p += 4; return v; };
  const u64 = () => { const lo = u32(); const hi = u32(); if (hi >= 2 ** 21) fail('length too large'); return hi * 2 ** 32 + lo; };
  const take = (n: number) => { need(n); const v = b.subarray(p, p + n); p += n; return v; };
  const str = (n: number) => {
    const raw = take(n);
    try { return utf8.decode(raw); } catch { return fail('a string is not valid UTF-8'); }
  };
  const line = () => {
    const start = p;
    while (p < b.length && b[p] !== 0x0a) p++;
    if (p >= b.length) fail('unterminated GLOBAL');
    const s = new TextDecoder('latin1').decode(b.subarray(start, p));
    p++;
    return s;
  };
  const pop = (): Val => {
    const v = stack.pop();
    if (v === undefined) return fail('stack underflow');
    if (typeof v === 'object' && v !== null && v.k === 'mark') fail('unexpected MARK');
    return v;
  };
  const popMark = (): Val[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const v = stack[i];
      if (typeof v === 'object' && v !== null && v.k === 'mark') {
        const items = stack.splice(i);
        items.shift();
        return items;
      }
    }
    return fail('no MARK');
  };
  const global = (name: string): Sym => {
    if (!ALLOWED_GLOBALS.has(name)) fail(`it names the global '${name}'`);
    return { k: 'global', name };
  };
  const isG = (v: Val, ...names: string[]) => typeof v === 'object' && v !== null && v.k === 'global' && names.includes(v.name);
  const isTuple = (v: Val): v is Tuple => typeof v === 'object' && v !== null && v.k === 'tuple';
  const memoPut = (i: number) => {
    if (stack.length === 0) fail('memo of an empty stack');
    if (memo.size > 10000) fail('too many memo entries');
    memo.set(i, stack[stack.length - 1]);
  };

  let steps = 0;
  for (;;) {
    if (++steps > 100000) fail('too many opcodes');
    const op = u8();
    switch (op) {
      case 0x80: { const v = u8(); if (v > 5) fail(`pickle protocol ${v}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME: length only, the bytes follow inline
      case 0x63: { const mod = line(); const name = line(); stack.push(global(`${mod}.${name}`)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), mod = pop();
        if (typeof name !== 'string' || typeof mod !== 'string') fail('STACK_GLOBAL of non-strings');
        stack.push(global(`${mod as string}.${name as string}`));
        break;
      }
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8d: stack.push(str(u64())); break; // BINUNICODE8
      case 0x43: stack.push({ k: 'bytes', v: take(u8()) }); break; // SHORT_BINBYTES
      case 0x42: stack.push({ k: 'bytes', v: take(u32()) }); break; // BINBYTES
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        const v = memo.get(i);
        if (v === undefined) fail(`memo ${i} is empty`);
        stack.push(v as Val);
        break;
      }
      case 0x28: stack.push({ k: 'mark' }); break; // MARK
      case 0x74: stack.push({ k: 'tuple', items: popMark() }); break; // TUPLE
      case 0x29: stack.push({ k: 'tuple', items: [] }); break; // EMPTY_TUPLE
      case 0x85: { const a = pop(); stack.push({ k: 'tuple', items: [a] }); break; } // TUPLE1
      case 0x86: { const b2 = pop(), a = pop(); stack.push({ k: 'tuple', items: [a, b2] }); break; } // TUPLE2
      case 0x87: { const c = pop(), b2 = pop(), a = pop(); stack.push({ k: 'tuple', items: [a, b2, c] }); break; } // TUPLE3
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: { const v = u32(); stack.push(v >= 2 ** 31 ? v - 2 ** 32 : v); break; } // BININT
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x5d: stack.push({ k: 'list', items: [] }); break; // EMPTY_LIST
      case 0x61: { // APPEND
        const v = pop(), l = pop();
        if (typeof l !== 'object' || l === null || l.k !== 'list') fail('APPEND to a non-list');
        (l as List).items.push(v);
        stack.push(l);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = pop();
        if (typeof l !== 'object' || l === null || l.k !== 'list') fail('APPENDS to a non-list');
        (l as List).items.push(...items);
        stack.push(l);
        break;
      }
      case 0x52: { // REDUCE: only the three calls numpy's pickle makes, evaluated symbolically
        const args = pop(), fn = pop();
        if (!isTuple(args)) return fail('REDUCE without an argument tuple');
        const a = args.items;
        if (isG(fn, 'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct')) {
          const ok = a.length === 3 && isG(a[0], 'numpy.ndarray') && isTuple(a[1]) && a[1].items.length === 1 && a[1].items[0] === 0 &&
            typeof a[2] === 'object' && a[2] !== null && a[2].k === 'bytes' && a[2].v.length === 1 && a[2].v[0] === 0x62;
          if (!ok) fail('unexpected arguments to _reconstruct');
          stack.push({ k: 'ndarray0' });
        } else if (isG(fn, 'numpy.dtype')) {
          if (!(a.length === 3 && a[0] === 'O8' && a[1] === false && a[2] === true)) fail(`dtype other than object (${JSON.stringify(a[0])})`);
          stack.push({ k: 'dtypeO' });
        } else if (isG(fn, '_codecs.encode')) {
          if (!(a.length === 2 && a[0] === 'b' && a[1] === 'latin1')) fail('unexpected arguments to _codecs.encode');
          stack.push({ k: 'bytes', v: new Uint8Array([0x62]) });
        } else {
          fail('REDUCE of something other than numpy array reconstruction');
        }
        break;
      }
      case 0x62: { // BUILD
        const state = pop(), obj = pop();
        if (typeof obj !== 'object' || obj === null) return fail('BUILD on a plain value');
        if (obj.k === 'dtypeO') {
          // dtype state: (3, '|', None, None, None, -1, -1, 63) -- only plain values allowed
          if (!isTuple(state) || !state.items.every((v) => v === null || typeof v !== 'object')) fail('unexpected dtype state');
          stack.push(obj);
        } else if (obj.k === 'ndarray0') {
          // array state: (version, shape, dtype, is_fortran, [items])
          if (!isTuple(state) || state.items.length !== 5) return fail('unexpected array state');
          const [, shape, dt, , items] = state.items;
          if (!isTuple(shape)) return fail('array shape is not a tuple');
          if (shape.items.length !== 0) fail(`the pickled array has shape (${shape.items.join(', ')}), not ()`);
          if (typeof dt !== 'object' || dt === null || dt.k !== 'dtypeO') fail('the pickled array is not an object array');
          if (typeof items !== 'object' || items === null || items.k !== 'list') return fail('array items are not a list');
          if (items.items.length !== 1) fail(`the pickled array holds ${items.items.length} items`);
          const v = items.items[0];
          if (typeof v !== 'string') fail(`the pickled array holds a ${v === null ? 'None' : typeof v === 'object' ? v.k : typeof v}, not a str`);
          stack.push({ k: 'array', value: v as string });
        } else {
          fail(`BUILD on ${obj.k}`);
        }
        break;
      }
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length !== 0) fail('values left on the stack');
        if (p !== b.length) fail(`${b.length - p} bytes after STOP`);
        if (typeof v !== 'object' || v === null || v.k !== 'array') {
          return fail(`the pickle holds a ${v === null ? 'None' : typeof v === 'object' ? v.k : typeof v}, not a numpy array`);
        }
        return v.value;
      }
      default:
        return fail(`opcode ${OPNAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} at byte ${p - 1} is not allowed`);
    }
  }
}
