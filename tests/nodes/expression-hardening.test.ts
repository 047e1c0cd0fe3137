// Custom-function expressions given names every object has, or absurd nesting (issue 18): each was accepted
// then failed later, gave NaN silently, exported wrong code, or crashed with an internal message.
import { describe, expect, it } from "vitest";
import { parseGraphFile } from "../../src/graph/format.ts";
import { ExprError, MAX_EXPR_DEPTH, parseExpr } from "../../src/nodes/expression.ts";

const VARS = ["x", "input"];

/** The load problems or validation errors of a one custom_function graph. */
function messages(forward: string): string[] {
  const r = parseGraphFile(
    JSON.stringify({
      format: "gradwire.graph",
      version: 3,
      nodes: [
        { id: "x", type: "tensor", params: { data: [1, 2] } },
        { id: "f", type: "custom_function", params: { forward, backward: "grad_output" } },
      ],
      edges: [{ id: "e", source: "x", sourcePort: "out", target: "f", targetPort: "input" }],
    }),
  );
  if (!r.ok) return r.errors.map((e) => `${e.path}: ${e.message}`);
  return r.issues.filter((i) => i.severity === "error").map((i) => i.message);
}

describe("expression names", () => {
  it("refuses names inherited from Object.prototype as constants, naming the node", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(() => parseExpr(`x + ${name}`, VARS)).toThrow(
        new ExprError(`unknown name '${name}' (use 'x', 'input', pi or e)`),
      );
      expect(() => parseExpr(`x * -${name}`, VARS)).toThrow(/unknown name/);
      expect(messages(`x * -${name}`)).toEqual([
        `node 'f' (custom_function): param 'forward': unknown name '${name}' (use 'x', 'input', pi or e)`,
      ]);
    }
  });

  it("refuses them as functions with the list of known ones, not 'valueOf takes undefined argument'", () => {
    for (const name of ["valueOf", "constructor", "toString"])
      expect(() => parseExpr(`x + ${name}(x)`, VARS)).toThrow(
        new RegExp(`^unknown function '${name}' \\(known: exp,`),
      );
  });
});

describe("expression depth", () => {
  it("refuses absurd nesting with the limit, not 'Maximum call stack size exceeded'", () => {
    const why = `the expression is nested more than ${MAX_EXPR_DEPTH} levels deep (split it over several nodes)`;
    for (const source of [
      `${"(".repeat(50_000)}x${")".repeat(50_000)}`,
      `${"-".repeat(50_000)}x`,
      Array.from({ length: 20_000 }, () => "x").join(" + "),
      `${"exp(".repeat(MAX_EXPR_DEPTH + 1)}x${")".repeat(MAX_EXPR_DEPTH + 1)}`,
    ])
      expect(() => parseExpr(source, VARS)).toThrow(new ExprError(why));
    expect(messages(`${"(".repeat(4000)}x${")".repeat(4000)}`)).toEqual([
      `node 'f' (custom_function): param 'forward': ${why}`,
    ]);
    expect(() => parseExpr(`${"exp(".repeat(50)}x${")".repeat(50)}`, VARS)).not.toThrow();
  });
});
