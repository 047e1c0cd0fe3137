/** Command-line options of the benchmark scripts: `--name value` and comma-separated lists of known names. */

export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The names given to `--name a,b`, each one of `allowed` (else an error naming them); null when absent. */
export function list<T extends string>(name: string, allowed: readonly T[]): T[] | null {
  const v = option(name);
  if (v === undefined) return null;
  const items = v.split(",").filter(Boolean) as T[];
  for (const it of items)
    if (!allowed.includes(it)) throw new Error(`--${name}: unknown ${it} (expected ${allowed.join(", ")})`);
  return items;
}
