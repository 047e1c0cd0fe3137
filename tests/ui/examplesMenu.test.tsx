// @vitest-environment happy-dom
/** The examples menu: the examples under their tutorial's name, a line each, and a search over them. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fireEvent, render } from "@solidjs/testing-library";
import { describe, expect, it, vi } from "vitest";
import { parseGraphFile } from "../../src/graph/format.ts";
import type { Example } from "../../src/ui/files/examples.ts";
import { FileMenu } from "../../src/ui/files/FileMenu.tsx";

const DIR = resolve(dirname(new URL(import.meta.url).pathname), "../../examples");
/** The real examples, as examples.ts bundles them (import.meta.glob is Vite's; read here from disk). */
const EXAMPLES: Example[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => {
    const text = readFileSync(resolve(DIR, file), "utf8");
    const r = parseGraphFile(text);
    if (!r.ok) throw new Error(`${file} does not load`);
    return { file, text, title: r.doc.title ?? file, description: r.doc.description };
  });

function menu() {
  const onExample = vi.fn();
  const r = render(() => (
    <FileMenu
      examples={EXAMPLES}
      onExample={onExample}
      onImport={() => {}}
      onExport={() => {}}
      onShare={async () => ""}
    />
  ));
  fireEvent.click(r.getByTestId("examples"));
  const groups = () =>
    [...r.container.querySelectorAll('[data-testid="example-group"]')].map((g) => ({
      tutorial: g.querySelector("h2")?.textContent,
      files: [...g.querySelectorAll('[data-testid="example-item"]')].map((b) => b.getAttribute("data-file")),
    }));
  return { r, onExample, groups };
}

describe("examples menu", () => {
  it("groups every example under its tutorial, in file order, without repeating the tutorial's name", () => {
    const { r, groups } = menu();
    const g = groups();
    expect(g.map((x) => x.tutorial)).toEqual([
      "L1 loss and the guessing game",
      "Thermometer linear regression",
      "Exploring loss functions with PyTorch",
      "Understanding PyTorch loss functions: the maths and algorithms",
      "Forward and backward passes, and a custom function",
      "Beyond the tutorials",
    ]);
    expect(g.flatMap((x) => x.files)).toEqual(EXAMPLES.map((e) => e.file));
    for (const d of r.container.querySelectorAll(".menu-item-desc"))
      expect(d.textContent).not.toMatch(/^From |^Beyond the notebooks/);
  });

  it("searches titles, descriptions and tutorials, every word, and Enter opens the first match", () => {
    const { r, onExample, groups } = menu();
    const search = r.getByTestId("examples-search") as HTMLInputElement;
    fireEvent.input(search, { target: { value: "thermometer" } });
    expect(groups().map((x) => x.tutorial)).toEqual([
      "Thermometer linear regression",
      "Beyond the tutorials",
    ]);
    fireEvent.input(search, { target: { value: "MLP adam" } });
    expect(groups()).toEqual([
      {
        tutorial: "Beyond the tutorials",
        files: [
          "51-mlp-two-class-adam.json",
          "53-mlp-reusable-block.json",
          "61-iris-mlp-validation.json",
          "65-moons-onecycle.json",
          "66-mlp-sequential.json",
        ],
      },
    ]);
    fireEvent.keyDown(search, { key: "Enter" });
    expect(onExample).toHaveBeenCalledWith(expect.objectContaining({ file: "51-mlp-two-class-adam.json" }));
    fireEvent.click(r.getByTestId("examples"));
    fireEvent.input(r.getByTestId("examples-search"), { target: { value: "no such thing" } });
    expect(groups()).toEqual([]);
    expect(r.getByTestId("examples-menu").textContent).toMatch(/No example matches/);
  });
});
