// Validation: every problem at once, each naming its node and port; shape inference before anything runs.
import { describe, expect, it } from "vitest";
import { canConnect } from "../../src/graph/connect.ts";
import { GraphDocument } from "../../src/graph/document.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import { type Issue, validateGraph } from "../../src/graph/validate.ts";
import { registry } from "../../src/nodes/index.ts";
import type { ParamValue } from "../../src/nodes/types.ts";

type N = [id: string, type: string, params?: Record<string, ParamValue>];
type E = [source: string, target: string, targetPort: string, sourcePort?: string];

function graph(nodes: N[], edges: E[]): GraphDoc {
  const doc = new GraphDocument();
  for (const [id, type, params] of nodes) doc.addNode({ id, type, params });
  for (const [source, target, targetPort, sourcePort] of edges)
    doc.change("edge", (d) => {
      const id = `e${Object.keys(d.edges).length + 1}`;
      d.edges[id] = { id, source, sourcePort: sourcePort ?? "out", target, targetPort };
    });
  return doc.state;
}

const errors = (doc: GraphDoc): Issue[] =>
  validateGraph(doc, registry).issues.filter((i) => i.severity === "error");
const messages = (doc: GraphDoc) => validateGraph(doc, registry).issues.map((i) => i.message);

describe("validateGraph", () => {
  it("accepts a correct graph and infers every shape and dtype", () => {
    const doc = graph(
      [
        [
          "x",
          "tensor",
          {
            data: [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
            dtype: "float32",
          },
        ],
        ["W", "randn", { size: [4, 2], requires_grad: true }],
        ["b", "zeros", { size: [4], requires_grad: true }],
        ["lin", "linear"],
        ["y", "tensor", { data: [0, 3, 1] }],
        ["loss", "cross_entropy"],
        ["opt", "Adam"],
      ],
      [
        ["x", "lin", "input"],
        ["W", "lin", "weight"],
        ["b", "lin", "bias"],
        ["lin", "loss", "input"],
        ["y", "loss", "target"],
        ["loss", "opt", "loss"],
      ],
    );
    const v = validateGraph(doc, registry);
    expect(v.issues).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.metas.lin.out).toEqual({ shape: [3, 4], dtype: "float32" });
    expect(v.metas.y.out).toEqual({ shape: [3], dtype: "int64" });
    expect(v.metas.loss.out).toEqual({ shape: [], dtype: "float32" });
    expect(v.order).toEqual(["x", "W", "b", "y", "lin", "loss", "opt"]);
  });

  it("names the nodes of a cycle", () => {
    const doc = graph(
      [
        ["a", "relu"],
        ["b", "tanh"],
        ["c", "sigmoid"],
        ["d", "exp"],
      ],
      [
        ["a", "b", "input"],
        ["b", "c", "input"],
        ["c", "a", "input"],
        ["c", "d", "input"],
      ],
    );
    const cyc = errors(doc).filter((i) => i.code === "cycle");
    expect(cyc.map((i) => i.nodeId).sort()).toEqual(["a", "b", "c"]);
    expect(cyc[0].message).toContain("'a' → 'b' → 'c' → 'a'");
    // d sits behind the cycle: it cannot run, but gets no message of its own.
    expect(validateGraph(doc, registry).blocked.has("d")).toBe(true);
  });

  it("reports a missing required input, with the port", () => {
    const doc = graph(
      [
        ["x", "tensor"],
        ["loss", "mse_loss"],
      ],
      [["x", "loss", "input"]],
    );
    const [e] = errors(doc);
    expect(e).toMatchObject({ code: "missing-input", nodeId: "loss", port: "target" });
    expect(e.message).toBe(
      "node 'loss' (mse_loss), input 'target' is not connected (the true values, same shape as input)",
    );
  });

  it("lets a scalar param stand in for an unconnected port, and says so when neither is given", () => {
    const ok = graph(
      [
        ["x", "tensor", { data: [1.5, 2] }],
        ["sq", "pow", { exponent: 2 }],
      ],
      [["x", "sq", "input"]],
    );
    expect(validateGraph(ok, registry).metas.sq.out).toEqual({ shape: [2], dtype: "float32" });
    const missing = graph(
      [
        ["x", "tensor"],
        ["sq", "pow"],
      ],
      [["x", "sq", "input"]],
    );
    expect(messages(missing)).toEqual([
      "node 'sq' (pow), input 'exponent': connect a tensor or set the number param 'exponent'",
    ]);
  });

  it("reports two edges into one input", () => {
    const doc = graph(
      [
        ["a", "tensor"],
        ["b", "tensor"],
        ["r", "relu"],
      ],
      [
        ["a", "r", "input"],
        ["b", "r", "input"],
      ],
    );
    expect(errors(doc)).toMatchObject([{ code: "duplicate-input", nodeId: "r", port: "input" }]);
    expect(errors(doc)[0].message).toContain("from 'a' and 'b'");
  });

  it("reports an unknown type with a suggestion", () => {
    const doc = graph([["l", "msel_loss"]], []);
    expect(messages(doc)).toEqual(["node 'l' has unknown type 'msel_loss' (did you mean 'mse_loss'?)"]);
  });

  it("reports dtype mismatches, expected vs got", () => {
    const doc = graph(
      [
        [
          "s",
          "tensor",
          {
            data: [
              [0.1, 0.9],
              [0.8, 0.2],
            ],
          },
        ],
        ["lp", "log_softmax", { dim: 1 }],
        ["t", "tensor", { data: [1.0, 0.5] }],
        ["loss", "nll_loss"],
      ],
      [
        ["s", "lp", "input"],
        ["lp", "loss", "input"],
        ["t", "loss", "target"],
      ],
    );
    expect(errors(doc)).toMatchObject([{ code: "dtype", nodeId: "loss", port: "target" }]);
    expect(errors(doc)[0].message).toBe(
      "node 'loss' (nll_loss), input 'target': expected an integer tensor (int64 class indices), got float32 from 't'",
    );
  });

  it("reports shape mismatches, expected vs got", () => {
    const doc = graph(
      [
        ["p", "tensor", { data: [1, 2, 3.5] }],
        ["t", "tensor", { data: [1, 2, 3, 4.5] }],
        ["loss", "mse_loss"],
        ["A", "randn", { size: [2, 3] }],
        ["mm", "matmul"],
      ],
      [
        ["p", "loss", "input"],
        ["t", "loss", "target"],
        ["A", "mm", "input"],
        ["A", "mm", "other"],
      ],
    );
    expect(messages(doc)).toEqual([
      "node 'loss' (mse_loss), input 'target', wired from 't' (tensor): expected a shape that broadcasts with input's [3], got [4]",
      "node 'mm' (matmul), input 'other', wired from 'A' (randn): shapes [2, 3] and [2, 3] cannot be multiplied (3 vs 2 in the inner dimension)",
    ]);
  });

  it("points a port's shape error at its wire, naming the output it comes from", () => {
    const doc = graph(
      [
        [
          "x",
          "tensor",
          {
            data: [
              [1.5, 2, 3],
              [4, 5, 6],
            ],
          },
        ],
        ["m", "max", { dim: 1 }],
        ["t", "tensor", { data: [1.5, 2, 3] }],
        ["loss", "mse_loss"],
      ],
      [
        ["x", "m", "input"],
        ["t", "loss", "input"],
        ["m", "loss", "target", "indices"],
      ],
    );
    const [issue] = errors(doc);
    expect(issue).toMatchObject({ nodeId: "loss", port: "target" });
    expect(issue.edgeId).toBe(Object.values(doc.edges).find((e) => e.targetPort === "target")!.id);
    expect(issue.message).toMatch(
      /^node 'loss' \(mse_loss\), input 'target', wired from 'm' \(max\), output 'indices': /,
    );
  });

  it("warns when nll_loss is not fed by a log_softmax (the source's -0.4325)", () => {
    const doc = graph(
      [
        [
          "y_pred",
          "tensor",
          {
            data: [
              [0.5153, 0.7051],
              [0.3464, 0.2458],
            ],
          },
        ],
        ["y_true", "tensor", { data: [1, 0] }],
        ["nll", "nll_loss"],
      ],
      [
        ["y_pred", "nll", "input"],
        ["y_true", "nll", "target"],
      ],
    );
    const v = validateGraph(doc, registry);
    expect(v.ok).toBe(true);
    expect(v.issues).toHaveLength(1);
    expect(v.issues[0]).toMatchObject({ severity: "warning", code: "lint", nodeId: "nll", port: "input" });
    expect(v.issues[0].message).toContain("comes from a 'tensor' node, not a log_softmax");
  });

  it("reports every problem at once", () => {
    const doc = graph(
      [
        ["a", "tensor", { data: [1.5] }],
        ["loss", "mse_loss"],
        ["opt", "SGD", { lr: -1 }],
        ["bad", "nope"],
        ["r1", "relu"],
        ["r2", "relu"],
        ["big", "randn", { size: [100000, 100000] }],
      ],
      [
        ["a", "loss", "input"],
        ["loss", "opt", "loss"],
        ["r1", "r2", "input"],
        ["r2", "r1", "input"],
        ["ghost", "r1", "input"],
      ],
    );
    const codes = errors(doc).map((i) => i.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        "missing-input",
        "bad-param",
        "unknown-type",
        "cycle",
        "dangling-edge",
        "too-large",
      ]),
    );
    const text = messages(doc).join("\n");
    expect(text).toContain("node 'opt' (SGD) param 'lr': must be ≥ 0");
    expect(text).toContain("edge 'e5' comes from node 'ghost', which is not in the graph");
    expect(text).toContain("10,000,000,000 elements, over gradwire's limit of 100,000,000");
  });

  it("reports params of the wrong type and unknown params", () => {
    const doc = graph([["l", "cross_entropy", { reduction: "average", gamma: 2 }]], []);
    const text = messages(doc).join("\n");
    expect(text).toContain("node 'l' (cross_entropy) has no param 'gamma'");
    expect(text).toContain(
      `node 'l' (cross_entropy) param 'reduction': Invalid option: expected one of "none"|"mean"|"sum"`,
    );
  });

  it("checks that a finite difference's input feeds its loss", () => {
    const doc = graph(
      [
        ["w", "tensor", { data: [1.5] }],
        ["other", "tensor", { data: [2.5] }],
        ["sq", "pow", { exponent: 2 }],
        ["s", "sum"],
        ["fd", "finite_difference"],
      ],
      [
        ["w", "sq", "input"],
        ["sq", "s", "input"],
        ["s", "fd", "loss"],
        ["other", "fd", "input"],
      ],
    );
    expect(messages(doc)).toEqual([
      "node 'fd' (finite_difference), input 'input': 'other' does not feed 's' (the 'loss' input), so changing it cannot change loss",
    ]);
  });

  it("warns when an optimizer has nothing to train, and refuses a tensor trained by two optimizers", () => {
    const frozen = graph(
      [
        ["a", "tensor", { data: [1.5] }],
        ["s", "sum"],
        ["opt", "SGD"],
      ],
      [
        ["a", "s", "input"],
        ["s", "opt", "loss"],
      ],
    );
    expect(validateGraph(frozen, registry).issues).toMatchObject([
      { severity: "warning", code: "nothing-to-train" },
    ]);
    const shared = graph(
      [
        ["w", "tensor", { data: [1.5], requires_grad: true }],
        ["s", "sum"],
        ["o1", "SGD"],
        ["o2", "Adam"],
      ],
      [
        ["w", "s", "input"],
        ["s", "o1", "loss"],
        ["s", "o2", "loss"],
      ],
    );
    expect(errors(shared)).toMatchObject([{ code: "shared-parameter", nodeId: "w" }]);
  });

  it("refuses an optimizer whose loss is not a single number", () => {
    const doc = graph(
      [
        ["w", "tensor", { data: [1.5, 2], requires_grad: true }],
        ["l", "l1_loss", { reduction: "none" }],
        ["opt", "SGD"],
      ],
      [
        ["w", "l", "input"],
        ["w", "l", "target"],
        ["l", "opt", "loss"],
      ],
    );
    expect(messages(doc)).toEqual([
      "node 'opt' (SGD), input 'loss', wired from 'l' (l1_loss): the loss must be a single number, got shape [2] (set the loss's reduction to 'mean' or 'sum')",
    ]);
  });

  it("refuses requires_grad on an integer tensor, as torch does", () => {
    const doc = graph([["i", "tensor", { data: [1, 2], requires_grad: true }]], []);
    expect(messages(doc)).toEqual([
      "node 'i' (tensor): only floating point tensors can require gradients (dtype is int64)",
    ]);
  });

  it("parses custom-function expressions and reports their errors", () => {
    const bad = graph(
      [
        ["x", "tensor", { data: [1.5] }],
        ["f", "custom_function", { forward: "x ** 2 + y", backward: "2 * x *" }],
      ],
      [["x", "f", "input"]],
    );
    expect(messages(bad)[0]).toMatch(/^node 'f' \(custom_function\): param 'forward': unknown name 'y'/);
    const evil = graph(
      [
        ["x", "tensor", { data: [1.5] }],
        ["f", "custom_function", { forward: "constructor.constructor('x')()" }],
      ],
      [["x", "f", "input"]],
    );
    expect(messages(evil)[0]).toMatch(/param 'forward': .*(not allowed|unknown)/);
  });
});

describe("canConnect", () => {
  const doc = graph(
    [
      ["p", "tensor", { data: [1.5, 2] }],
      ["t", "tensor", { data: [1.5, 2, 3] }],
      ["i", "tensor", { data: [1, 0] }],
      ["r", "relu"],
      ["loss", "mse_loss"],
      ["nll", "nll_loss"],
    ],
    [
      ["p", "r", "input"],
      ["r", "loss", "input"],
    ],
  );
  it("allows a fitting connection", () => {
    expect(
      canConnect(doc, registry, { source: "p", sourcePort: "out", target: "loss", targetPort: "target" }),
    ).toEqual({
      ok: true,
    });
  });
  it("refuses a cycle, an unknown port, and a shape or dtype mismatch, with the reason", () => {
    expect(
      canConnect(doc, registry, { source: "loss", sourcePort: "out", target: "r", targetPort: "input" }),
    ).toEqual({
      ok: false,
      reason: "this would make a cycle: 'r' already feeds 'loss'",
    });
    expect(
      canConnect(doc, registry, { source: "p", sourcePort: "out", target: "loss", targetPort: "tgt" }),
    ).toMatchObject({
      ok: false,
      reason: "'loss' (mse_loss) has no input 'tgt'",
    });
    expect(
      canConnect(doc, registry, { source: "t", sourcePort: "out", target: "loss", targetPort: "target" }),
    ).toEqual({
      ok: false,
      reason:
        "node 'loss' (mse_loss), input 'target', wired from 't' (tensor): expected a shape that broadcasts with input's [2], got [3]",
    });
    expect(
      canConnect(doc, registry, { source: "p", sourcePort: "out", target: "nll", targetPort: "target" }),
    ).toMatchObject({
      ok: false,
    });
  });
});
