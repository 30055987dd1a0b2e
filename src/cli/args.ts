import { parseArgs, type ParseArgsConfig } from 'node:util';

/** An error meant for the user: the CLI prints its message alone, without a stack trace. */
export class CliError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

/** A negative number such as -1, -0.5, -.5 or -1e-3 (not a flag like -h). */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--temperature -1` with a space: Node's parseArgs calls the value ambiguous (it could be a
 * flag); a value that is a negative number is joined to its flag as `--temperature=-1`, so it
 * reaches the flag's own check.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i += 1;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parses flags strictly; an unknown flag or a missing value becomes a CliError naming it. */
export function parseFlags(argv: string[], options: Options, usage: string): Values {
  try {
    const args = joinNegativeValues(argv, options);
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}".\n${usage}`);
    return values as Values;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${(e as Error).message}\n${usage}`);
  }
}

function parseNumber(name: string, raw: string, integer: boolean): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new CliError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${raw}".`);
  }
  return v;
}

/** The integer value of --name, or undefined when absent. */
export function intFlag(values: Values, name: string): number | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? parseNumber(name, raw, true) : undefined;
}

/** The numeric value of --name, or undefined when absent. */
export function numFlag(values: Values, name: string): number | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? parseNumber(name, raw, false) : undefined;
}

/** The string value of --name, or undefined. */
export function strFlag(values: Values, name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Drops undefined fields, so defaults apply downstream. */
export function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
