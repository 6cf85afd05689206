/**
 * Python's text for numbers, timestamps and paths, where the reference's console lines, logs and
 * JSON depend on it (`training.py:405-434`, `445-469`). Pure functions, no DOM.
 */

/** Sign, shortest round-trip digits and decimal exponent of a finite non-zero double (x = d.ddd x 10^exp). */
function shortestDigits(x: number): { neg: boolean; digits: string; exp: number } {
  // toExponential() without an argument gives the shortest digit string that round-trips (ECMA-262).
  const s = x.toExponential();
  const [mant, expText] = s.split('e');
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  return { neg, digits, exp: Number(expText) };
}

function pyExponent(exp: number): string {
  const sign = exp < 0 ? '-' : '+';
  const a = Math.abs(exp);
  return sign + (a < 10 ? '0' + a : String(a));
}

/**
 * `repr(float)` / `str(float)` in Python 3: shortest round-trip digits, positional notation when
 * the decimal exponent is in [-4, 16), otherwise `d.ddde+XX`; integral values get `.0`.
 * 1000 -> '1000.0', 1e-5 -> '1e-05', 1e16 -> '1e+16', 0.1 -> '0.1', NaN -> 'nan'.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const { neg, digits, exp } = shortestDigits(x);
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mant}e${pyExponent(exp)}`;
  }
  if (exp >= 0) {
    const intLen = exp + 1;
    if (digits.length <= intLen) return `${sign}${digits.padEnd(intLen, '0')}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

/**
 * Python `format(x, '.0e')` (the reference's `{dose:.0e}`): one significant digit, round half to
 * even on the exact binary value, exponent with at least two digits. 1000 -> '1e+03'
 * (JavaScript's toExponential(0) gives '1e+3' and rounds ties up: 2500 -> '3e+3', Python '2e+03').
 */
export function pyFormatE0(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return (Object.is(x, -0) ? '-' : '') + '0e+00';
  // 100 significant digits (the most toExponential allows) is far more than a tie test needs.
  const s = Math.abs(x).toExponential(99);
  const [mant, expText] = s.split('e');
  let exp = Number(expText);
  let d = Number(mant[0]);
  const rest = mant.slice(2); // 99 digits after the point
  const half = '5' + '0'.repeat(rest.length - 1);
  const up = rest > half || (rest === half && d % 2 === 1);
  if (up) {
    d += 1;
    if (d === 10) { d = 1; exp += 1; }
  }
  return `${x < 0 ? '-' : ''}${d}e${pyExponent(exp)}`;
}

/**
 * `datetime.utcnow().isoformat() + 'Z'` for a time given in epoch milliseconds (fractional
 * milliseconds carry the microseconds): `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the fraction omitted
 * entirely when the microseconds are 0 (trap 8.11).
 */
export function pyUtcIsoTimestamp(epochMs: number): string {
  const totalMicros = Math.round(epochMs * 1000);
  const micros = ((totalMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const seconds = (totalMicros - micros) / 1_000_000;
  const d = new Date(seconds * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const base =
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}` +
    `T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return micros === 0 ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

/**
 * Python `float(text)` for the `--dose` argument: optional surrounding whitespace, sign, digits
 * with single underscores between them, optional fraction and exponent, or inf/infinity/nan.
 * Returns undefined where Python raises ValueError (JavaScript's Number() would accept '', '0x10').
 */
export function parsePythonFloat(text: string): number | undefined {
  const t = text.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    const neg = special[1] === '-';
    if (special[2].toLowerCase() === 'nan') return NaN;
    return neg ? -Infinity : Infinity;
  }
  const digits = String.raw`\d(?:_?\d)*`;
  const re = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:[eE][+-]?${digits})?$`);
  if (!re.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** Python `str(PurePosixPath(p))`: duplicate and trailing slashes and `.` segments removed, `''` -> `'.'`. */
export function pyPathStr(p: string): string {
  if (p === '') return '.';
  const lead = p.startsWith('//') && !p.startsWith('///') ? '//' : p.startsWith('/') ? '/' : '';
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  const body = parts.join('/');
  if (lead) return lead + body;
  return body === '' ? '.' : body;
}

/** Python `Path(a) / b / c` then `str()`, for POSIX relative segments. */
export function pyPathJoin(base: string, ...segments: string[]): string {
  let out = pyPathStr(base);
  for (const seg of segments) {
    if (seg.startsWith('/')) { out = pyPathStr(seg); continue; }
    const s = pyPathStr(seg);
    if (s === '.') continue;
    out = out === '.' ? s : out.endsWith('/') ? out + s : `${out}/${s}`;
  }
  return out;
}
