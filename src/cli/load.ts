/** Read a graph file, load it and validate it, printing every problem (exit 1 when there is an error). */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseGraphFile } from "../graph/format.ts";
import { expandModules } from "../graph/modules.ts";
import { describeNode, type GraphDoc } from "../graph/types.ts";
import { type Issue, validateGraph } from "../graph/validate.ts";
import { provideCsv, registry } from "../nodes/index.ts";
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
  const dataProblems = provideDataFiles(r.doc, file);
  for (const m of dataProblems) io.stderr.write(`${file}: error: ${m}\n`);
  if (dataProblems.length)
    throw new CliFailure(
      `${file}: ${dataProblems.length} data file${dataProblems.length === 1 ? "" : "s"} could not be used`,
    );
  // Validation again, now that the data files are there to infer from.
  r.issues = validateGraph(expandModules(r.doc), registry).issues;
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

/** Largest CSV file the CLI reads: bigger is refused before reading, naming the node. */
export const MAX_DATA_FILE_BYTES = 1 << 30;

/**
 * Read the files csv nodes name by path (relative to the graph file) and hand them to the nodes; a file over
 * the size limit, missing, or changed since its SHA-256 was saved is a problem naming the node.
 */
export function provideDataFiles(doc: GraphDoc, graphFile: string): string[] {
  const problems: string[] = [];
  for (const node of Object.values(doc.nodes)) {
    const path = node.params.path;
    if (node.type !== "csv" || typeof path !== "string" || path === "" || (node.params.content ?? "") !== "")
      continue;
    const full = resolve(dirname(graphFile), path);
    const at = `node ${describeNode(node)}`;
    try {
      const size = statSync(full).size;
      if (size > MAX_DATA_FILE_BYTES) {
        problems.push(
          `${at}: '${path}' is ${size.toLocaleString("en")} bytes, over gradwire's limit of ${MAX_DATA_FILE_BYTES.toLocaleString("en")}`,
        );
        continue;
      }
      const bytes = readFileSync(full);
      const sha = createHash("sha256").update(bytes).digest("hex");
      const text = bytes.toString("utf8");
      const saved = node.params.sha256;
      if (typeof saved === "string" && saved !== "" && saved !== sha) {
        problems.push(
          `${at}: '${path}' has changed since the graph was saved (its SHA-256 was ${saved}, now ${sha})`,
        );
        continue;
      }
      provideCsv([sha, path], text);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push(
        `${at}: cannot read '${path}' (${code === "ENOENT" ? `no such file: ${full}` : (e as Error).message})`,
      );
    }
  }
  return problems;
}
