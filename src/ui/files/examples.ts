/**
 * The examples menu: every graph file in examples/ is bundled (import.meta.glob), so a new file appears in the
 * menu without touching the editor. Titles come from the files themselves.
 */
import { parseGraphFile } from "../../graph/format.ts";

export interface Example {
  file: string;
  title: string;
  description?: string;
  text: string;
}

const files = import.meta.glob("../../../examples/*.json", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

function titleOf(file: string, text: string): { title: string; description?: string } {
  const r = parseGraphFile(text);
  const name = file.replace(/^.*\//, "").replace(/\.json$/, "");
  if (r.ok) return { title: r.doc.title ?? name, description: r.doc.description };
  return { title: name };
}

export const EXAMPLES: Example[] = Object.entries(files)
  .map(([path, text]) => {
    const file = path.replace(/^.*\//, "");
    return { file, text, ...titleOf(file, text) };
  })
  .sort((a, b) => a.file.localeCompare(b.file));
