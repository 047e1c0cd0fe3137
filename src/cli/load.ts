/** Read a graph file, load it and validate it, printing every problem (exit 1 when there is an error). */
import { readFileSync } from "node:fs";
import { parseGraphFile } from "../graph/format.ts";
import type { GraphDoc } from "../graph/types.ts";
import type { Issue } from "../graph/validate.ts";
import { UsageError } from "./args.ts";
import { CliFailure, type Io } from "./io.ts";

export function readGraphText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT"
        ? `cannot read '${file}': no such file`
        : code === "EISDIR"
          ? `'${file}' is a directory`
          : `cannot read '${file}': ${(e as Error).message}`,
    );
  }
}

export interface Loaded {
  doc: GraphDoc;
  issues: Issue[];
}

/** Load and validate; problems go to stderr as `FILE: path: message` / `FILE: error: message`. */
export function loadGraphFile(file: string, io: Io, opts: { quietWarnings?: boolean } = {}): Loaded {
  const r = parseGraphFile(readGraphText(file));
  if (!r.ok) {
    for (const e of r.errors) io.stderr.write(`${file}: ${e.path}: ${e.message}\n`);
    throw new CliFailure(
      `${file} is not a valid graph file (${r.errors.length} problem${r.errors.length === 1 ? "" : "s"})`,
    );
  }
  if (r.migratedFrom !== undefined)
    io.stderr.write(`${file}: note: migrated from format version ${r.migratedFrom}\n`);
  const errors = r.issues.filter((i) => i.severity === "error");
  for (const i of r.issues)
    if (i.severity === "error" || !opts.quietWarnings)
      io.stderr.write(`${file}: ${i.severity}: ${i.message}\n`);
  if (errors.length)
    throw new CliFailure(`${file}: the graph has ${errors.length} error${errors.length === 1 ? "" : "s"}`);
  return { doc: r.doc, issues: r.issues };
}
