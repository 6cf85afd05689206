/**
 * JSON text exactly as Python's `json.dump(obj, f, indent=2)` writes it (as E4's
 * `training.py:457-473` writes the manifest): `": "` and `","` separators with newlines, non-ASCII escaped as `\uXXXX`
 * (`ensure_ascii`), floats written with Python's repr (`1000.0`, `5e-05`), NaN/Infinity as
 * Python writes them. JavaScript has one number type, so which values are Python floats is told
 * by key: a number under a key in `floatKeys` (or in an array under such a key) is a float; any
 * other non-integral number is a float anyway; other integral numbers are ints.
 */
import { pyFloatRepr } from '../study/pyformat';

export interface PyJsonOptions {
  /** Spaces per level (Python indent); default 2. */
  indent?: number;
  /** Keys whose numeric values are Python floats. */
  floatKeys?: ReadonlySet<string>;
}

/** Python's ensure_ascii string escaping (json.encoder.py_encode_basestring_ascii). */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

function pyJsonNumber(x: number, isFloat: boolean): string {
  if (!isFloat && Number.isInteger(x)) return Object.is(x, -0) ? '0' : BigInt(x).toString();
  return pyJsonFloat(x);
}

function isTypedArray(v: unknown): v is ArrayLike<number | bigint> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** Serialise like `json.dumps(value, indent=2)`. Object keys keep insertion order; `undefined` members are left out. */
export function pyJsonDumps(value: unknown, opts: PyJsonOptions = {}): string {
  const step = ' '.repeat(opts.indent ?? 2);
  const floatKeys = opts.floatKeys ?? new Set<string>();

  const enc = (v: unknown, level: number, isFloat: boolean): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return pyJsonNumber(v, isFloat);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return pyJsonString(v);
    const inner = step.repeat(level + 1);
    const outer = step.repeat(level);
    if (Array.isArray(v) || isTypedArray(v)) {
      const items = Array.from(v as ArrayLike<unknown>);
      if (items.length === 0) return '[]';
      return '[\n' + items.map((x) => inner + enc(x, level + 1, isFloat)).join(',\n') + '\n' + outer + ']';
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      if (entries.length === 0) return '{}';
      return '{\n' + entries
        .map(([k, x]) => inner + pyJsonString(k) + ': ' + enc(x, level + 1, floatKeys.has(k)))
        .join(',\n') + '\n' + outer + '}';
    }
    // Python's json would raise TypeError; the manifest code sanitises before this point.
    throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  };
  return enc(value, 0, false);
}
