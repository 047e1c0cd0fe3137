/** `gradwire validate FILE`: load and check the graph; every problem is printed, exit 1 if any is an error. */
import type { Io } from "./io.ts";
import { loadGraphFile } from "./load.ts";

export function validateCommand(file: string, io: Io): void {
  const { doc, issues } = loadGraphFile(file, io);
  const warnings = issues.filter((i) => i.severity === "warning").length;
  const n = Object.keys(doc.nodes).length;
  const m = Object.keys(doc.edges).length;
  io.stdout.write(
    `${file}: valid graph, ${n} node${n === 1 ? "" : "s"}, ${m} edge${m === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`,
  );
}
