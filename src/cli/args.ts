/**
 * The small part of Python's argparse the study CLI needs (`training.py:341-389`): long options with
 * `--opt value` and `--opt=value`, unambiguous prefixes (`--dry`), required options, types and
 * choices, `-h/--help`, and on any error the usage plus `prog: error: ...` on stderr, exit 2.
 */
import { parsePythonFloat } from '../lib/study/pyformat';

export interface OptionSpec {
  flag: string;                // '--phase-c-root'
  dest: string;                // 'phase_c_root'
  /** 'append': repeatable, collects every value in order (argparse action='append'). */
  kind: 'value' | 'flag' | 'append';
  type?: 'str' | 'float' | 'int';
  /** Accept a next argument that starts with '-' as the value (`--sbatch-arg --time=1:00:00`). */
  dashValue?: boolean;
  required?: boolean;
  choices?: readonly (string | number)[];
  help?: string;
}

export type ParsedArgs = Record<string, string | number | boolean | null | string[]>;

export type ParseOutcome =
  | { ok: true; values: ParsedArgs }
  | { ok: false; exitCode: 0 | 2; stdout: string; stderr: string };

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/; // argparse's _negative_number_matcher

function metavar(o: OptionSpec): string {
  if (o.choices) return `{${o.choices.join(',')}}`;
  return o.dest.toUpperCase();
}

function usageParts(specs: readonly OptionSpec[]): string[] {
  const parts = ['[-h]'];
  for (const o of specs) {
    const text = o.kind === 'flag' ? o.flag : `${o.flag} ${metavar(o)}`;
    parts.push(o.required ? text : `[${text}]`);
  }
  return parts;
}

/** `usage: prog ...` wrapped like argparse's HelpFormatter at 80 columns. */
export function formatUsage(prog: string, specs: readonly OptionSpec[], width = 78): string {
  const head = `usage: ${prog} `;
  const indent = ' '.repeat(head.length);
  const lines: string[] = [];
  let line = '';
  for (const part of usageParts(specs)) {
    if (line && (head.length + line.length + 1 + part.length) > width) {
      lines.push(line);
      line = part;
    } else {
      line = line ? `${line} ${part}` : part;
    }
  }
  if (line) lines.push(line);
  return head + lines.join(`\n${indent}`) + '\n';
}

export function formatHelp(prog: string, description: string, specs: readonly OptionSpec[]): string {
  const rows: [string, string][] = [['-h, --help', 'show this help message and exit']];
  for (const o of specs) rows.push([o.kind === 'flag' ? o.flag : `${o.flag} ${metavar(o)}`, o.help ?? '']);
  const body = rows.map(([a, b]) => (a.length <= 20 ? `  ${a.padEnd(22)}${b}` : `  ${a}\n${' '.repeat(24)}${b}`)).join('\n');
  return `${formatUsage(prog, specs)}\n${description}\n\noptions:\n${body}\n`;
}

function convert(o: OptionSpec, raw: string): { value: string | number } | { error: string } {
  let value: string | number = raw;
  if (o.type === 'float') {
    const f = parsePythonFloat(raw);
    if (f === undefined) return { error: `argument ${o.flag}: invalid float value: '${raw}'` };
    value = f;
  } else if (o.type === 'int') {
    if (!/^\s*[+-]?\d(?:_?\d)*\s*$/.test(raw)) return { error: `argument ${o.flag}: invalid int value: '${raw}'` };
    value = Number(raw.replace(/_/g, '').trim());
  }
  if (o.choices && !o.choices.includes(value)) {
    const shown = typeof value === 'number' ? String(value) : `'${value}'`;
    const list = o.choices.map((c) => (typeof c === 'number' ? String(c) : `'${c}'`)).join(', ');
    return { error: `argument ${o.flag}: invalid choice: ${shown} (choose from ${list})` };
  }
  return { value };
}

export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  prog: string,
  description = '',
): ParseOutcome {
  const usage = formatUsage(prog, specs);
  const fail = (msg: string): ParseOutcome => ({ ok: false, exitCode: 2, stdout: '', stderr: `${usage}${prog}: error: ${msg}\n` });
  const values: ParsedArgs = {};
  for (const o of specs) values[o.dest] = o.kind === 'flag' ? false : o.kind === 'append' ? [] : null;
  const seen = new Set<string>();
  const extras: string[] = [];
  const allFlags = ['--help', ...specs.map((o) => o.flag)];

  let i = 0;
  let onlyPositionals = false;
  while (i < argv.length) {
    const arg = argv[i];
    if (onlyPositionals || !arg.startsWith('-') || arg === '-' || NEGATIVE_NUMBER.test(arg)) {
      extras.push(arg);
      i += 1;
      continue;
    }
    if (arg === '--') { onlyPositionals = true; i += 1; continue; }
    if (arg === '-h') return { ok: false, exitCode: 0, stdout: formatHelp(prog, description, specs), stderr: '' };
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const explicit = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    let flag: string | undefined = allFlags.find((f) => f === name);
    if (!flag && name.startsWith('--')) {
      const matches = allFlags.filter((f) => f.startsWith(name));
      if (matches.length > 1) return fail(`ambiguous option: ${name} could match ${matches.join(', ')}`);
      flag = matches[0];
    }
    if (!flag) { extras.push(arg); i += 1; continue; }
    if (flag === '--help') return { ok: false, exitCode: 0, stdout: formatHelp(prog, description, specs), stderr: '' };
    const o = specs.find((s) => s.flag === flag)!;
    if (o.kind === 'flag') {
      if (explicit !== undefined) return fail(`argument ${o.flag}: ignored explicit argument '${explicit}'`);
      values[o.dest] = true;
      seen.add(o.dest);
      i += 1;
      continue;
    }
    let raw: string;
    if (explicit !== undefined) {
      raw = explicit;
      i += 1;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (!o.dashValue && next.startsWith('-') && next !== '-' && !NEGATIVE_NUMBER.test(next))) {
        return fail(`argument ${o.flag}: expected one argument`);
      }
      raw = next;
      i += 2;
    }
    const c = convert(o, raw);
    if ('error' in c) return fail(c.error);
    if (o.kind === 'append') (values[o.dest] as string[]).push(String(c.value));
    else values[o.dest] = c.value;
    seen.add(o.dest);
  }
  const missing = specs.filter((o) => o.required && !seen.has(o.dest)).map((o) => o.flag);
  if (missing.length) return fail(`the following arguments are required: ${missing.join(', ')}`);
  if (extras.length) return fail(`unrecognized arguments: ${extras.join(' ')}`);
  return { ok: true, values };
}
