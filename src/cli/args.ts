import { parseArgs, type ParseArgsConfig } from 'node:util';

/** An error meant for the user: the CLI prints its message alone, without a stack trace. */
export class CliError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

/** Parses flags strictly; an unknown flag or a missing value becomes a CliError naming it. */
export function parseFlags(argv: string[], options: Options, usage: string): Values {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
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
