// @vitest-environment happy-dom
/** The palette with the real registry: groups in order, search, and the two ways of adding a kind. */
import { fireEvent, render } from "@solidjs/testing-library";
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import { OPTIMIZER_SPECS } from "../../src/runtime/index.ts";
import { Palette } from "../../src/ui/palette/Palette.tsx";
import { bestMatch, entriesOf, filterGroups, PALETTE_GROUPS } from "../../src/ui/palette/search.ts";

const entries = entriesOf(registry.list());

describe("palette", () => {
  it("offers every registered kind, with a test hook and a one-line description", () => {
    const r = render(() => <Palette entries={entries} onAdd={() => {}} />);
    for (const k of registry.list()) {
      const item = r.getByTestId(`palette-item-${k.type}`);
      expect(item.textContent).toContain(k.description);
      expect(item.getAttribute("draggable")).toBe("true");
    }
    const titles = [...r.container.querySelectorAll(".palette-group-title")].map((h) => h.textContent);
    expect(titles).toEqual(PALETTE_GROUPS.filter((g) => entries.some((e) => e.group === g)));
  });

  it("groups kinds as the issue lists them, metrics under Tools", () => {
    const groups = new Map(filterGroups(entries, ""));
    expect([...groups.keys()]).toEqual([
      "Data",
      "Model",
      "Ops",
      "Activations",
      "Losses",
      "Optimizers",
      "Tools",
    ]);
    expect(groups.get("Losses")?.map((e) => e.type)).toContain("mse_loss");
    // The optimizers, then the learning-rate schedulers wired from them.
    expect(groups.get("Optimizers")?.map((e) => e.type)).toEqual([
      ...OPTIMIZER_SPECS.map((s) => s.name),
      ...["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR"],
      "ReduceLROnPlateau",
    ]);
    expect(groups.get("Tools")?.map((e) => e.type)).toContain("argmax");
  });

  it("searches names first, then descriptions, ignoring case and underscores", () => {
    expect(bestMatch(entries, "mse")?.type).toBe("mse_loss");
    expect(bestMatch(entries, "MSE LOSS")?.type).toBe("mse_loss");
    expect(bestMatch(entries, "adam")?.type).toBe("Adam");
    const byDescription = filterGroups(entries, "squared error").flatMap(([, l]) => l.map((e) => e.type));
    expect(byDescription).toContain("mse_loss");
    expect(filterGroups(entries, "zzzz-nothing")).toEqual([]);
  });

  it("filters as you type; Enter in the search adds the best match; double-click and Enter on an item add it", () => {
    const added: string[] = [];
    const r = render(() => <Palette entries={entries} onAdd={(t) => added.push(t)} />);
    const search = r.getByTestId("palette-search") as HTMLInputElement;
    fireEvent.input(search, { target: { value: "cross" } });
    const shown = [...r.container.querySelectorAll(".palette-item")].map((e) =>
      e.getAttribute("data-testid"),
    );
    expect(shown).toContain("palette-item-cross_entropy");
    expect(shown).not.toContain("palette-item-SGD");
    fireEvent.keyDown(search, { key: "Enter" });
    expect(added).toEqual(["cross_entropy"]);
    fireEvent.input(search, { target: { value: "" } });
    fireEvent.dblClick(r.getByTestId("palette-item-SGD"));
    fireEvent.keyDown(r.getByTestId("palette-item-tensor"), { key: "Enter" });
    expect(added).toEqual(["cross_entropy", "SGD", "tensor"]);
  });

  it("says so when nothing matches", () => {
    const r = render(() => <Palette entries={entries} onAdd={() => {}} />);
    fireEvent.input(r.getByTestId("palette-search"), { target: { value: "qqqq" } });
    expect(r.container.textContent).toContain("No node matches");
  });
});
