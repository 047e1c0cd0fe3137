/** A CSV file dropped on the canvas: a new csv node loaded with it, or a notice saying why the file was refused. */
import { isNumberCell, parseCsv } from "../../nodes/csv/table.ts";
import type { Registry } from "../../nodes/index.ts";
import { notify } from "../notices.tsx";
import type { Editor } from "../state/editor.ts";
import { loadCsvInto } from "./csvFile.ts";

export async function dropCsv(
  editor: Editor,
  registry: Registry,
  file: File,
  add: (type: string) => string | undefined,
): Promise<void> {
  const id = add("csv");
  if (!id) return;
  // A last column of names (species, yes/no) is a classification target: class indices, not numbers.
  if (textTarget(await file.slice(0, 65536).text())) editor.setParam(id, "target_type", "class_index");
  const r = await loadCsvInto(editor, registry, id, file);
  if (r.ok) return;
  // The file was refused: the node made for it goes again, so the graph is as it was.
  editor.graph.removeNodes([id]);
  notify({ kind: "error", title: r.error, sticky: true, testid: "csv-drop-error" });
}

/** Whether the first rows' last column holds something other than numbers. */
function textTarget(head: string): boolean {
  try {
    const t = parseCsv(head.slice(0, head.lastIndexOf("\n") + 1) || head, "", "auto");
    return t.rows.some((r) => !isNumberCell(r[r.length - 1] ?? ""));
  } catch {
    return false;
  }
}
