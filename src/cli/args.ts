/** Command-line parsing: a command, one file, and flags; anything else is a usage error (exit 2). */

export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  /** Takes a value (`--epochs 10` or `--epochs=10`). */
  value?: boolean;
}

export interface Parsed {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string | true>;
}

/** Short options, each another spelling of a long one. */
const ALIASES: Record<string, string> = { h: "help", o: "output" };

/** How a usage message names an option: `--epochs`, or `-o/--output` for one with a short spelling too. */
export function optionName(name: string): string {
  const short = Object.keys(ALIASES).find((k) => ALIASES[k] === name);
  return short ? `-${short}/--${name}` : `--${name}`;
}

export function parseArgs(argv: readonly string[], known: Record<string, FlagSpec>): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      const given = (eq >= 0 ? a.slice(0, eq) : a).replace(/^-+/, "");
      const name = Object.hasOwn(ALIASES, given) ? ALIASES[given] : given;
      const spec = Object.hasOwn(known, name) ? known[name] : undefined;
      if (!spec) throw new UsageError(`unknown option '${a}'`);
      if (spec.value) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined || v === "") throw new UsageError(`option '${optionName(name)}' needs a value`);
        if (flags.has(name)) throw new UsageError(`option '${optionName(name)}' given twice`);
        flags.set(name, v);
      } else {
        if (eq >= 0) throw new UsageError(`option '${optionName(name)}' takes no value`);
        flags.set(name, true);
      }
      continue;
    }
    positional.push(a);
  }
  return { command: positional.shift(), positional, flags };
}

export function intFlag(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max.toLocaleString("en")}, got '${String(v)}'`,
    );
  return n;
}

export function choiceFlag<T extends string>(p: Parsed, name: string, options: readonly T[], def: T): T {
  const v = p.flags.get(name);
  if (v === undefined) return def;
  if (typeof v !== "string" || !(options as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${options.join(", ")}, got '${String(v)}'`);
  return v as T;
}
