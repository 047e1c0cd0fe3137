/**
 * Which graph the editor opens with: a shared link's graph, else the autosaved one, else an empty canvas.
 * Problems are reported, never fatal: a damaged link or autosave falls through to the next source.
 */
import { parseGraphFile } from "../graph/format.ts";
import { emptyGraph, type GraphDoc } from "../graph/types.ts";
import { loadLocal } from "./files/autosave.ts";
import { decodeGraph, fragmentOf } from "./files/share.ts";

export interface Startup {
  doc: GraphDoc;
  source: "link" | "autosave" | "empty";
  problems: { title: string; lines: string[] }[];
}

export async function resolveStartup(hash: string): Promise<Startup> {
  const problems: Startup["problems"] = [];
  const frag = fragmentOf(hash);
  if (frag) {
    try {
      const r = parseGraphFile(await decodeGraph(frag));
      if (r.ok) return { doc: r.doc, source: "link", problems };
      problems.push({
        title: "The shared graph could not be opened",
        lines: r.errors.map((e) => `${e.path}: ${e.message}`),
      });
    } catch (e) {
      problems.push({
        title: "The shared graph could not be opened",
        lines: [e instanceof Error ? e.message : String(e)],
      });
    }
  }
  const saved = loadLocal();
  if (saved) {
    const r = parseGraphFile(saved);
    if (r.ok) return { doc: r.doc, source: "autosave", problems };
    problems.push({
      title: "The autosaved graph could not be restored",
      lines: r.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`),
    });
  }
  return { doc: emptyGraph(), source: "empty", problems };
}
