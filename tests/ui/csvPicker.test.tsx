// @vitest-environment happy-dom
/**
 * The csv node's file picker in the inspector: a good file sets path, SHA-256, the embedded text and the saved
 * statistics in one undoable step; a bad file shows the message naming file, row and column and changes nothing.
 */

import { createHash } from "node:crypto";
import { fireEvent, render, waitFor } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import { dropCsv } from "../../src/ui/data/dropCsv.ts";
import { Inspector } from "../../src/ui/inspector/Inspector.tsx";
import { createAnalysis } from "../../src/ui/state/analysis.ts";
import { createEditor } from "../../src/ui/state/editor.ts";

const GOOD = "x,z,label\n1,10,a\n2,20,b\n4,60,a\n";

function setup() {
  const editor = createEditor(registry);
  const analysis = createAnalysis(editor.doc, registry);
  const r = render(() => <Inspector editor={editor} analysis={analysis} />);
  const id = editor.addNode("csv", { x: 0, y: 0 }) as string;
  editor.setParam(id, "target_type", "class_index");
  editor.setParam(id, "standardize", true);
  return { editor, analysis, r, id };
}

function choose(input: HTMLInputElement, name: string, text: string): void {
  const file = new File([text], name, { type: "text/csv" });
  Object.defineProperty(input, "files", { value: [file], configurable: true });
  fireEvent.change(input);
}

describe("csv file picker", () => {
  it("loads a chosen file into the node: path, sha256, embedded text, saved statistics; one undo step", async () => {
    const { editor, analysis, r, id } = setup();
    const before = editor.doc().nodes[id].params;
    choose(r.getByTestId("csv-file") as HTMLInputElement, "points.csv", GOOD);
    await waitFor(() =>
      expect(r.getByTestId("csv-status").textContent).toMatch(/points\.csv: 3 rows, 2 features/),
    );
    const p = editor.doc().nodes[id].params;
    expect(p.path).toBe("points.csv");
    expect(p.sha256).toBe(createHash("sha256").update(GOOD).digest("hex"));
    expect(p.content).toBe(GOOD);
    expect(p.mean).toEqual([7 / 3, 30]);
    expect((p.std as number[]).length).toBe(2);
    expect(analysis.outMeta(id, "X")?.shape).toEqual([3, 2]);
    expect(analysis.outMeta(id, "y")?.dtype).toBe("int64");
    editor.undo();
    expect(editor.doc().nodes[id].params).toEqual(before);
  });

  it("a bad file shows where it is wrong and leaves the node as it was", async () => {
    const { editor, r, id } = setup();
    choose(r.getByTestId("csv-file") as HTMLInputElement, "points.csv", GOOD);
    await waitFor(() => expect(r.queryByTestId("csv-status")?.textContent).toMatch(/3 rows/));
    const loaded = editor.doc().nodes[id].params;
    choose(r.getByTestId("csv-file") as HTMLInputElement, "broken.csv", "x,z,label\n1,10,a\n2,oops,b\n");
    await waitFor(() =>
      expect(r.getByTestId("csv-error").textContent).toBe(
        "broken.csv: row 3, column 'z': 'oops' is not a number",
      ),
    );
    expect(editor.doc().nodes[id].params).toEqual(loaded);
    choose(r.getByTestId("csv-file") as HTMLInputElement, "ragged.csv", "x,z,label\n1,10\n");
    await waitFor(() =>
      expect(r.getByTestId("csv-error").textContent).toMatch(/ragged\.csv: row 2 has 2 fields, expected 3/),
    );
    expect(editor.doc().nodes[id].params).toEqual(loaded);
  });
});

describe("a CSV file dropped on the canvas", () => {
  it("makes a csv node loaded with it; a bad file leaves the graph as it was", async () => {
    const editor = createEditor(registry);
    const add = (type: string) => editor.addNode(type, { x: 0, y: 0 });
    await dropCsv(editor, registry, new File([GOOD], "good.csv"), add);
    const nodes = Object.values(editor.doc().nodes);
    expect(nodes.map((n) => [n.type, n.params.path])).toEqual([["csv", "good.csv"]]);
    await dropCsv(editor, registry, new File(["a,b\n1\n"], "bad.csv"), add);
    expect(Object.values(editor.doc().nodes)).toEqual(nodes);
  });
});
