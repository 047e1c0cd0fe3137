// @vitest-environment happy-dom
/** The inspector generated from the real kinds' declarations, validating as you type. */
import { fireEvent, render } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import { shortMessage } from "../../src/ui/canvas/GwNode.tsx";
import { Inspector } from "../../src/ui/inspector/Inspector.tsx";
import { createAnalysis } from "../../src/ui/state/analysis.ts";
import { createEditor } from "../../src/ui/state/editor.ts";

function setup() {
  const editor = createEditor(registry);
  const analysis = createAnalysis(editor.doc, registry);
  const r = render(() => <Inspector editor={editor} analysis={analysis} />);
  return { editor, analysis, r };
}

describe("inspector", () => {
  it("shows one field per declared param of the selected kind", () => {
    const { editor, r } = setup();
    editor.addNode("Adam", { x: 0, y: 0 });
    const names = [...r.container.querySelectorAll("[data-param]")].map((e) => e.getAttribute("data-param"));
    expect(names).toEqual(registry.get("Adam")?.params.map((p) => p.name));
  });

  it("applies a valid value as you type, refuses an invalid one with the reason, and undoes typing as one step", () => {
    const { editor, r } = setup();
    const id = editor.addNode("SGD", { x: 0, y: 0 }) as string;
    const lr = r.getByTestId("param-lr") as HTMLInputElement;
    fireEvent.focus(lr);
    fireEvent.input(lr, { target: { value: "0.5" } });
    expect(editor.doc().nodes[id].params.lr).toBe(0.5);
    fireEvent.input(lr, { target: { value: "-0.5" } });
    expect(r.getByTestId("param-error").textContent).toMatch(/≥ 0/);
    expect(editor.doc().nodes[id].params.lr).toBe(0.5);
    fireEvent.input(lr, { target: { value: "0.25" } });
    expect(r.queryByTestId("param-error")).toBeNull();
    fireEvent.blur(lr);
    expect(editor.doc().nodes[id].params.lr).toBe(0.25);
    editor.undo();
    expect(editor.doc().nodes[id].params.lr).toBeUndefined();
    expect((r.getByTestId("param-lr") as HTMLInputElement).value).toBe("0.01");
  });

  it("switches booleans and enums directly", () => {
    const { editor, r } = setup();
    const id = editor.addNode("mse_loss", { x: 0, y: 0 }) as string;
    const reduction = r.getByTestId("param-reduction") as HTMLSelectElement;
    fireEvent.change(reduction, { target: { value: "sum" } });
    expect(editor.doc().nodes[id].params.reduction).toBe("sum");
    const t = editor.addNode("tensor", { x: 0, y: 200 }) as string;
    const rg = r.getByTestId("param-requires_grad") as HTMLInputElement;
    fireEvent.change(rg, { target: { checked: true } });
    expect(editor.doc().nodes[t].params.requires_grad).toBe(true);
  });

  it("lists the graph's problems when nothing is selected", () => {
    const { editor, r } = setup();
    editor.addNode("mse_loss", { x: 0, y: 0 });
    editor.setSelection([]);
    expect(r.getByTestId("graph-issues").textContent).toMatch(/input 'input' is not connected/);
  });

  it("shortens messages on the node they name", () => {
    expect(shortMessage("node 'a' (mse_loss), input 'target': expected a float tensor")).toBe(
      "target: expected a float tensor",
    );
    expect(shortMessage("node 'a' (mse_loss), input 'input' is not connected (x)")).toBe(
      "input 'input' is not connected (x)",
    );
    expect(shortMessage("node 'a' (add) is on a cycle: 'a' → 'b' → 'a'")).toBe(
      "This node is on a cycle: 'a' → 'b' → 'a'",
    );
    expect(shortMessage("something else")).toBe("something else");
  });
});
