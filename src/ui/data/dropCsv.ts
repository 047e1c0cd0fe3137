/** A CSV file dropped on the canvas: a new csv node loaded with it, or a notice saying why the file was refused. */
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
  const r = await loadCsvInto(editor, registry, id, file);
  if (r.ok) return;
  // The file was refused: the node made for it goes again, so the graph is as it was.
  editor.graph.removeNodes([id]);
  notify({ kind: "error", title: r.error, sticky: true, testid: "csv-drop-error" });
}
