/**
 * Which graph the editor opens with: a shared link's graph, else the autosaved one, else an empty canvas.
 * Problems are reported, never fatal: a damaged link or autosave falls through to the next source, and the
 * editor always starts.
 */
import { type LoadResult, parseGraphFile } from "../graph/format.ts";
import { emptyGraph, type GraphDoc } from "../graph/types.ts";
import { keepUnreadable, loadLocal, saveLocal } from "./files/autosave.ts";
import { decodeGraph, fragmentOf } from "./files/share.ts";

export interface Startup {
  doc: GraphDoc;
  source: "link" | "autosave" | "empty";
  problems: { title: string; lines: string[] }[];
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** parseGraphFile, with a loader crash (a bug) turned into a refusal so the editor still starts. */
function parse(text: string): LoadResult {
  try {
    return parseGraphFile(text);
  } catch (e) {
    return { ok: false, errors: [{ path: "$", message: `the loader failed: ${messageOf(e)}` }] };
  }
}

export async function resolveStartup(hash: string): Promise<Startup> {
  const problems: Startup["problems"] = [];
  const frag = fragmentOf(hash);
  if (frag) {
    try {
      const text = await decodeGraph(frag);
      const r = parse(text);
      if (r.ok) {
        // The page clears the link from the address bar, so the graph is autosaved now: a reload before any edit
        // finds it there.
        saveLocal(text);
        return { doc: r.doc, source: "link", problems };
      }
      problems.push({
        title: "The shared graph could not be opened",
        lines: r.errors.map((e) => `${e.path}: ${e.message}`),
      });
    } catch (e) {
      problems.push({ title: "The shared graph could not be opened", lines: [messageOf(e)] });
    }
  }
  const saved = loadLocal();
  if (saved) {
    const r = parse(saved);
    if (r.ok) return { doc: r.doc, source: "autosave", problems };
    // The next edit overwrites the autosave: its text is kept aside first, so the work is not lost.
    const kept = keepUnreadable(saved);
    problems.push({
      title: "The autosaved graph could not be restored",
      lines: [
        ...r.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`),
        ...(kept ? [`Its text is kept in this browser's localStorage under "${kept}".`] : []),
      ],
    });
  }
  return { doc: emptyGraph(), source: "empty", problems };
}
