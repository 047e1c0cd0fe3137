// @vitest-environment happy-dom
/**
 * Modules in the editor's components: the module bar groups the selection and opens, leaves and ungroups an
 * instance; the palette lists the graph's modules and places another instance; the inspector renames a port and
 * sets an instance's own params; every step undoes. Real editor, real kinds, real validation.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fireEvent, render } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { parseGraphFile } from "../../src/graph/format.ts";
import { expandModules } from "../../src/graph/modules.ts";
import { registry } from "../../src/nodes/index.ts";
import { ModuleBar } from "../../src/ui/canvas/ModuleBar.tsx";
import { Inspector } from "../../src/ui/inspector/Inspector.tsx";
import { Palette } from "../../src/ui/palette/Palette.tsx";
import { entriesOf } from "../../src/ui/palette/search.ts";
import { createAnalysis } from "../../src/ui/state/analysis.ts";
import { createEditor } from "../../src/ui/state/editor.ts";

function setup() {
  // happy-dom's URL is not Node's: the path, as tests/ui/paramCount does.
  const dir = resolve(dirname(new URL(import.meta.url).pathname), "../../examples");
  const text = readFileSync(resolve(dir, "51-mlp-two-class-adam.json"), "utf8");
  const r = parseGraphFile(text);
  if (!r.ok) throw new Error("example 51 does not load");
  const editor = createEditor(registry, r.doc);
  const analysis = createAnalysis(editor.doc, registry, undefined, editor.scope);
  const ui = render(() => (
    <div>
      <ModuleBar editor={editor} />
      <Palette
        entries={entriesOf(registry.list())}
        onAdd={(t) => editor.addNode(t, { x: 0, y: 0 })}
        modules={() => Object.values(editor.doc().modules ?? {})}
      />
      <Inspector editor={editor} analysis={analysis} />
    </div>
  ));
  return { editor, analysis, ui, before: r.doc };
}

describe("modules in the editor", () => {
  it("groups the selection from the module bar, opens it, goes back by the breadcrumb and undoes", () => {
    const { editor, analysis, ui, before } = setup();
    expect(ui.queryByTestId("group-module")).toBeNull();
    editor.setSelection(["W1", "b1", "hidden", "h"]);
    fireEvent.click(ui.getByTestId("group-module"));
    const inst = editor.selection()[0];
    expect(editor.doc().nodes[inst]).toMatchObject({ type: "module", params: { module: "Module" } });
    // The instance validates as the flat graph: no errors, and its output has the hidden layer's shape.
    expect(analysis.validation().issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(analysis.outMeta(inst, "out")?.shape).toEqual([256, 16]);
    expect(ui.getByTestId("module-panel").textContent).toContain("Module Module");

    fireEvent.click(ui.getByTestId("open-module"));
    expect(editor.scope()).toBe("Module");
    expect(ui.getByTestId("breadcrumb-module").textContent).toBe("Module");
    expect(Object.keys(editor.view().nodes).sort()).toEqual(["W1", "b1", "h", "hidden"]);
    // Inside, each node shows what it computes in the instance (hidden is Module_1/hidden).
    expect(analysis.outMeta("hidden", "out")?.shape).toEqual([256, 16]);
    expect(analysis.issuesOf("hidden")).toEqual([]);
    fireEvent.click(ui.getByTestId("breadcrumb-graph"));
    expect(editor.scope()).toBeUndefined();
    expect(ui.queryByTestId("breadcrumb-module")).toBeNull();

    // Pasting an instance into its own module is refused (nothing pasted), not an error.
    editor.setSelection([inst]);
    const clip = editor.copy();
    editor.openModule("Module");
    expect(editor.paste(clip)).toEqual([]);
    editor.openModule(undefined);

    editor.undo();
    expect(editor.doc()).toEqual(before);
  });

  it("places another instance from the palette's Modules section, with its own params", () => {
    const { editor, ui } = setup();
    editor.setSelection(["W1", "b1", "hidden", "h"]);
    fireEvent.click(ui.getByTestId("group-module"));
    fireEvent.dblClick(ui.getByTestId("palette-module-Module"));
    const second = editor.selection()[0];
    expect(editor.doc().nodes[second]).toMatchObject({ type: "module", params: { module: "Module" } });
    // This instance's own seed for W1, set in the inspector; a param the node does not have is refused.
    fireEvent.change(ui.getByTestId("override-new"), { target: { value: "W1.seed = 7" } });
    expect(editor.doc().nodes[second].params["W1.seed"]).toBe(7);
    fireEvent.change(ui.getByTestId("override-new"), { target: { value: "W1.speed = 7" } });
    expect(ui.getByTestId("module-error").textContent).toMatch(/no node 'W1' with a param 'speed'/);
    // Each instance has its own tensors: the first keeps seed 1, the second draws with seed 7.
    const flat = expandModules(editor.doc());
    const first = Object.values(editor.doc().nodes).find((n) => n.type === "module" && n.id !== second)!;
    expect(flat.nodes[`${first.id}/W1`].params.seed).toBe(1);
    expect(flat.nodes[`${second}/W1`].params.seed).toBe(7);
  });

  it("renames a port in the inspector, rewiring the instance; a taken name is refused", () => {
    const { editor, ui } = setup();
    editor.setSelection(["W1", "b1", "hidden", "h"]);
    fireEvent.click(ui.getByTestId("group-module"));
    const inst = editor.selection()[0];
    fireEvent.change(ui.getByTestId("port-name-inputs-input"), { target: { value: "features" } });
    expect(editor.doc().modules?.Module.inputs[0].name).toBe("features");
    const into = Object.values(editor.doc().edges).find((e) => e.target === inst);
    expect(into?.targetPort).toBe("features");
    fireEvent.change(ui.getByTestId("port-name-outputs-out"), { target: { value: "not a name" } });
    expect(ui.getByTestId("module-error").textContent).toMatch(/cannot name a port/);
    // Renaming the module renames every instance's definition and the palette entry; a taken or bad name is refused.
    fireEvent.change(ui.getByTestId("module-name"), { target: { value: "Hidden" } });
    expect(Object.keys(editor.doc().modules ?? {})).toEqual(["Hidden"]);
    expect(editor.doc().nodes[inst].params.module).toBe("Hidden");
    expect(ui.getByTestId("palette-module-Hidden")).toBeTruthy();
    fireEvent.change(ui.getByTestId("module-name"), { target: { value: "2nd" } });
    expect(ui.getByTestId("module-error").textContent).toMatch(/cannot name a module/);
    editor.undo();
    expect(editor.doc().modules?.Module).toBeDefined();
    fireEvent.click(ui.getByText("Ungroup", { selector: "[data-testid=module-panel] button" }));
    expect(editor.doc().modules).toBeUndefined();
    expect(Object.keys(editor.doc().nodes)).toContain("hidden");
  });

  it("groups a chain of layers as a Sequential, and refuses a selection that is not a chain, naming the node", () => {
    const { editor, ui, before } = setup();
    editor.setSelection(["W1", "b1", "hidden", "h"]);
    fireEvent.click(ui.getByTestId("group-sequential"));
    expect(ui.getByTestId("group-sequential-refused").textContent).toBe(
      "node 'hidden' in Sequential 'Module' takes 2 inputs inside; a layer of a Sequential takes only the previous layer's output",
    );
    expect(editor.doc()).toEqual(before);
    editor.setSelection(["h"]);
    fireEvent.click(ui.getByTestId("group-sequential"));
    expect(ui.queryByTestId("group-sequential-refused")).toBeNull();
    const inst = editor.selection()[0];
    expect(editor.doc().nodes[inst]).toMatchObject({ type: "module", params: { module: "Module" } });
    expect(editor.doc().modules?.Module?.sequential).toBe(true);
    expect(ui.getByTestId("sequential-layers").textContent).toBe("Sequential(\n  (0): tanh()  # h\n)");
    editor.undo();
    expect(editor.doc()).toEqual(before);
  });
});
