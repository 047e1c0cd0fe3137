// The examples the insight tests evaluate, parsed, and a scheduler evaluated on a graph.
import { readFileSync } from "node:fs";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";

export function example(name: string): GraphDoc {
  const r = parseGraphFile(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8"));
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.doc;
}

export function scheduler(doc: GraphDoc): Scheduler {
  const s = new Scheduler();
  s.setGraph(doc);
  s.evaluate();
  return s;
}
