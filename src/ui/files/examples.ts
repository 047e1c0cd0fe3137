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

/** The tutorial an example reproduces, as its description names it ("From the notebook “…”."). */
export function tutorialOf(description: string | undefined): string {
  const d = description ?? "";
  const named = /^From (?:the notebook )?“([^”]+)”/.exec(d);
  if (named) return named[1];
  return /^Beyond the notebooks/.test(d) ? "Beyond the tutorials" : "Other examples";
}

/** The description without the tutorial's name, which the menu shows as the group's heading. */
export function summaryOf(description: string | undefined): string {
  return (description ?? "")
    .replace(/^From (?:the notebook )?“[^”]+”\.\s*/, "")
    .replace(/^Beyond the notebooks[.:]\s*/, "");
}

export interface ExampleGroup {
  tutorial: string;
  examples: Example[];
}

/**
 * The examples by tutorial, in file order, keeping those matching every word of `query` (in the title, the
 * description or the tutorial's name, ignoring case).
 */
export function groupExamples(examples: readonly Example[], query = ""): ExampleGroup[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const groups = new Map<string, Example[]>();
  for (const e of examples) {
    const tutorial = tutorialOf(e.description);
    const hay = `${e.title} ${e.description ?? ""} ${tutorial} ${e.file}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) continue;
    const g = groups.get(tutorial);
    if (g) g.push(e);
    else groups.set(tutorial, [e]);
  }
  return [...groups].map(([tutorial, list]) => ({ tutorial, examples: list }));
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
