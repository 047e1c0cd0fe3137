/** The import errors' "did you mean": only a close name is suggested, never one that merely shares a letter or two. */
import { describe, expect, it } from "vitest";
import { parseGraphFile } from "../../src/graph/format.ts";
import { registry } from "../../src/nodes/index.ts";

function typeErrors(types: string[]): string[] {
  const r = parseGraphFile(
    JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      nodes: types.map((type, i) => ({ id: `n${i}`, type })),
      edges: [],
    }),
    registry,
  );
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

describe("unknown node type suggestions", () => {
  it("suggests a close name: a typo, a swap, a letter missing or extra, another case", () => {
    expect(registry.suggest("msel_loss")).toBe("mse_loss");
    expect(registry.suggest("mse_los")).toBe("mse_loss");
    expect(registry.suggest("lienar")).toBe("linear");
    expect(registry.suggest("adma")).toBe("Adam");
    expect(registry.suggest("sigmod")).toBe("sigmoid");
    expect(registry.suggest("sgd")).toBe("SGD");
    expect(registry.suggest("sume")).toBe("sum");
  });

  it("suggests nothing for a name that is not close to any type", () => {
    // 'nope' is two edits from 'ne', half of that name: not a misspelling of it.
    expect(registry.suggest("nope")).toBeUndefined();
    expect(registry.suggest("zz")).toBeUndefined();
    expect(registry.suggest("foo")).toBeUndefined();
    expect(registry.suggest("node")).toBeUndefined();
    expect(registry.suggest("optimizer")).toBeUndefined();
    expect(registry.suggest("completely_unrelated_name")).toBeUndefined();
  });

  it("says so in the import errors", () => {
    expect(typeErrors(["nope", "msel_loss"])).toEqual([
      "nodes[0].type: unknown node type 'nope'",
      "nodes[1].type: unknown node type 'msel_loss' (did you mean 'mse_loss'?)",
    ]);
  });
});
