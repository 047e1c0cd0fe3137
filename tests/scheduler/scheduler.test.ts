// The scheduler: topological evaluation, incremental recomputation (counted), gradients, and the tool nodes.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { build, fixture, sqrtAtZero, THERMOMETER_T_C, THERMOMETER_T_U } from "./helpers.ts";

function chain() {
  // a, b → add → relu → sum;  c → exp (independent)
  return build(
    [
      ["a", "tensor", { data: [1.5, -2, 3] }],
      ["b", "tensor", { data: [0.5, 0.5, 0.5] }],
      ["add", "add"],
      ["relu", "relu"],
      ["total", "sum"],
      ["c", "tensor", { data: [0.25] }],
      ["e", "exp"],
    ],
    [
      ["a", "add", "input"],
      ["b", "add", "other"],
      ["add", "relu", "input"],
      ["relu", "total", "input"],
      ["c", "e", "input"],
    ],
  );
}

const counts = (s: Scheduler, ids: string[]) => Object.fromEntries(ids.map((id) => [id, s.evaluations(id)]));
const ALL = ["a", "b", "add", "relu", "total", "c", "e"];

describe("Scheduler evaluation", () => {
  it("evaluates in topological order", () => {
    const s = new Scheduler();
    s.setGraph(chain().state);
    expect(s.evaluate()).toEqual(["a", "b", "c", "add", "e", "relu", "total"]);
    expect(s.value("add")?.toList()).toEqual([2, -1.5, 3.5]);
    expect(s.value("relu")?.toList()).toEqual([2, 0, 3.5]);
    expect(s.value("total")?.item()).toBe(5.5);
    expect(s.value("e")?.item()).toBeCloseTo(Math.exp(0.25), 6);
  });

  it("after an edit recomputes only the changed node and its descendants", () => {
    const doc = chain();
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(counts(s, ALL)).toEqual({ a: 1, b: 1, add: 1, relu: 1, total: 1, c: 1, e: 1 });

    doc.setParam("b", "data", [1, 1, 1]);
    const delta = s.setGraph(doc.state);
    expect(delta.changed).toEqual(["b"]);
    expect(delta.dirty.sort()).toEqual(["add", "b", "relu", "total"]);
    expect(s.evaluate()).toEqual(["b", "add", "relu", "total"]);
    expect(counts(s, ALL)).toEqual({ a: 1, b: 2, add: 2, relu: 2, total: 2, c: 1, e: 1 });
    expect(s.value("total")?.item()).toBe(6.5);

    doc.setParam("total", "keepdim", true);
    s.setGraph(doc.state);
    expect(s.evaluate()).toEqual(["total"]);
  });

  it("moving a node, renaming it or undoing to the same params recomputes nothing", () => {
    const doc = chain();
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    doc.moveNodes({ add: { x: 300, y: 40 } });
    s.setGraph(doc.state);
    expect(s.evaluate()).toEqual([]);
    doc.setParam("c", "data", [2]);
    doc.undo();
    s.setGraph(doc.state);
    expect(s.evaluate()).toEqual([]);
    expect(counts(s, ALL)).toEqual({ a: 1, b: 1, add: 1, relu: 1, total: 1, c: 1, e: 1 });
  });

  it("rewiring an input recomputes the target and what follows", () => {
    const doc = chain();
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    const v0 = s.version("relu");
    doc.connect({ source: "e", target: "relu", targetPort: "input" });
    s.setGraph(doc.state);
    expect(s.evaluate()).toEqual(["relu", "total"]);
    expect(s.version("relu")).toBe(v0 + 1);
    expect(s.value("total")?.item()).toBeCloseTo(Math.exp(0.25), 6);
  });

  it("a runtime error names the node, and its descendants report the failed input", () => {
    const doc = build(
      [
        [
          "scores",
          "tensor",
          {
            data: [
              [0.1, 0.9],
              [0.8, 0.2],
            ],
          },
        ],
        ["lp", "log_softmax", { dim: 1 }],
        ["y", "tensor", { data: [1, 7] }],
        ["nll", "nll_loss"],
        ["twice", "mul", { other: 2 }],
      ],
      [
        ["scores", "lp", "input"],
        ["lp", "nll", "input"],
        ["y", "nll", "target"],
        ["nll", "twice", "input"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.error("nll")?.message).toBe(
      "node 'nll' (nll_loss): nll_loss: Target 7 is out of bounds (2 classes, element 1)",
    );
    expect(s.error("twice")?.message).toBe("node 'twice' (mul): input from 'nll' has no value (it failed)");
    expect(s.value("lp")).toBeDefined();
  });

  it("does not run nodes with validation errors, and says why", () => {
    const doc = build(
      [
        ["x", "tensor"],
        ["l", "mse_loss"],
      ],
      [["x", "l", "input"]],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.value("x")?.toList()).toEqual([1, 2, 3]);
    expect(s.error("l")?.message).toContain("input 'target' is not connected");
  });

  it("computes the thermometer loss at w = 1, b = 0 (0.2942) and its gradients", () => {
    const doc = build(
      [
        ["t_u", "tensor", { data: THERMOMETER_T_U }],
        ["t_c", "tensor", { data: THERMOMETER_T_C, dtype: "float32" }],
        ["model", "model", { weight: 1, bias: 0 }],
        ["loss", "mse_loss"],
        ["opt", "SGD", { lr: 0.01 }],
      ],
      [
        ["t_u", "model", "input"],
        ["model", "loss", "input"],
        ["t_c", "loss", "target"],
        ["loss", "opt", "loss"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.value("loss")?.item()).toBeCloseTo(0.2942, 4);
    const g = s.gradients({ nodes: true });
    expect([...g.params.keys()]).toEqual(["model.weight", "model.bias"]);
    // d/dw mean((w t_u + b - t_c)^2) = mean(2 (t_p - t_c) t_u)
    const tp = THERMOMETER_T_U.map((u) => Math.fround(u));
    const dw = tp.reduce((a, u, i) => a + 2 * (u - THERMOMETER_T_C[i]) * u, 0) / 12;
    const db = tp.reduce((a, u, i) => a + 2 * (u - THERMOMETER_T_C[i]), 0) / 12;
    expect(g.params.get("model.weight")?.item()).toBeCloseTo(dw, 4);
    expect(g.params.get("model.bias")?.item()).toBeCloseTo(db, 5);
    // The gradient reaching the model's output: 2 (t_p - t_c) / 12 per element.
    expect(g.nodes.get("model")?.toList()).toEqual(
      tp.map((u, i) => expect.closeTo((2 * (u - THERMOMETER_T_C[i])) / 12, 6)),
    );
    // Leaves' own .grad are untouched by an eval's backward.
    expect(s.trainables()[0].tensor.grad).toBeNull();
  });

  it("finite differences reproduce the thermometer source: forward 1.0976, then the central update", () => {
    // w + delta with the forward difference, undivided (the source's first step), then w and b updated with
    // central differences at lr 1e-2: (w, b) = (0.9379, -0.0024). The source holds the updated w fixed while
    // it differentiates in b: here a detach does that (finite differences treat it as a constant).
    const doc = build(
      [
        ["t_u", "tensor", { data: THERMOMETER_T_U }],
        ["t_c", "tensor", { data: THERMOMETER_T_C, dtype: "float32" }],
        ["w", "tensor", { data: [1], dtype: "float32" }],
        ["b", "tensor", { data: [0], dtype: "float32" }],
        // loss(w, b)
        ["wx", "mul"],
        ["tp", "add"],
        ["loss", "mse_loss"],
        ["fd_w", "finite_difference", { scheme: "forward", delta: 0.1, divide: false }],
        ["step_w", "mul", { other: 0.01 }],
        ["w1", "sub"],
        // loss(w1, b), central difference in w1, then w2
        ["wx1", "mul"],
        ["tp1", "add"],
        ["loss1", "mse_loss"],
        ["fd_w1", "finite_difference", { scheme: "central", delta: 0.1 }],
        ["step_w1", "mul", { other: 0.01 }],
        ["w2", "sub"],
        ["w2_fixed", "detach"],
        // loss(w2, b), central difference in b, then b1
        ["wx2", "mul"],
        ["tp2", "add"],
        ["loss2", "mse_loss"],
        ["fd_b", "finite_difference", { scheme: "central", delta: 0.1 }],
        ["step_b", "mul", { other: 0.01 }],
        ["b1", "sub"],
      ],
      [
        ["w", "wx", "input"],
        ["t_u", "wx", "other"],
        ["wx", "tp", "input"],
        ["b", "tp", "other"],
        ["tp", "loss", "input"],
        ["t_c", "loss", "target"],
        ["loss", "fd_w", "loss"],
        ["w", "fd_w", "input"],
        ["fd_w", "step_w", "input"],
        ["w", "w1", "input"],
        ["step_w", "w1", "other"],
        ["w1", "wx1", "input"],
        ["t_u", "wx1", "other"],
        ["wx1", "tp1", "input"],
        ["b", "tp1", "other"],
        ["tp1", "loss1", "input"],
        ["t_c", "loss1", "target"],
        ["loss1", "fd_w1", "loss"],
        ["w1", "fd_w1", "input"],
        ["fd_w1", "step_w1", "input"],
        ["w1", "w2", "input"],
        ["step_w1", "w2", "other"],
        ["w2", "w2_fixed", "input"],
        ["w2_fixed", "wx2", "input"],
        ["t_u", "wx2", "other"],
        ["wx2", "tp2", "input"],
        ["b", "tp2", "other"],
        ["tp2", "loss2", "input"],
        ["t_c", "loss2", "target"],
        ["loss2", "fd_b", "loss"],
        ["b", "fd_b", "input"],
        ["fd_b", "step_b", "input"],
        ["b", "b1", "input"],
        ["step_b", "b1", "other"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.errors()).toEqual([]);
    expect(s.value("fd_w")?.item()).toBeCloseTo(1.0976, 4);
    expect(s.value("w2")?.item()).toBeCloseTo(0.9379, 4);
    expect(s.value("b1")?.item()).toBeCloseTo(-0.0024, 4);
    // The recomputation never touched the cache: each node ran once.
    expect(s.evaluations("loss")).toBe(1);
  });

  it("sweeps the L1 loss over predictions -8..12 against target 2 (float16)", () => {
    const doc = build(
      [
        ["prediction", "tensor", { data: 5, dtype: "float16" }],
        ["target", "tensor", { data: 2, dtype: "float16" }],
        ["l1", "l1_loss"],
        ["curve", "sweep", { start: -8, end: 12, steps: 21 }],
      ],
      [
        ["prediction", "l1", "input"],
        ["target", "l1", "target"],
        ["l1", "curve", "loss"],
        ["prediction", "curve", "input"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.value("l1")?.item()).toBe(3);
    expect(s.value("curve", "x")?.toList()).toEqual(Array.from({ length: 21 }, (_, i) => i - 8));
    expect(s.value("curve")?.toList()).toEqual(Array.from({ length: 21 }, (_, i) => Math.abs(i - 8 - 2)));
    expect(s.value("curve")?.dtype).toBe("float16");
  });

  it("a custom function with a wrong backward gives the source's wrong gradient, and grad repeats accumulate", () => {
    // The forward-backward source: square.apply(norm(Y - P)) with backward returning grad_output unchanged.
    const doc = build(
      [
        ["Y", "tensor", { data: [0, 1, 0, 0], dtype: "float32" }],
        ["P", "tensor", { data: [0.001, 0.55, 0.1, 0.1], requires_grad: true }],
        ["diff", "sub"],
        ["n", "norm"],
        ["square", "custom_function", { name: "square", forward: "x ** 2", backward: "grad_output" }],
        ["delta", "tensor", { data: 0.0475 }],
        ["g_wrong", "grad"],
        ["g_thrice", "grad", { repeat: 3 }],
        ["right", "pow", { exponent: 2 }],
        ["g_right", "grad"],
      ],
      [
        ["Y", "diff", "input"],
        ["P", "diff", "other"],
        ["diff", "n", "input"],
        ["n", "square", "input"],
        ["square", "g_wrong", "outputs"],
        ["P", "g_wrong", "inputs"],
        ["delta", "g_wrong", "grad_outputs"],
        ["square", "g_thrice", "outputs"],
        ["P", "g_thrice", "inputs"],
        ["delta", "g_thrice", "grad_outputs"],
        ["n", "right", "input"],
        ["right", "g_right", "outputs"],
        ["P", "g_right", "inputs"],
        ["delta", "g_right", "grad_outputs"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    s.evaluate();
    expect(s.errors()).toEqual([]);
    expect(s.value("square")?.item()).toBeCloseTo(0.2225, 4);
    const close = (xs: number[]) => xs.map((x) => expect.closeTo(x, 6));
    expect(s.value("g_right")?.toList()).toEqual(close([0.000095, -0.04275, 0.0095, 0.0095]));
    expect(s.value("g_wrong")?.toList()).toEqual(close([0.000101, -0.045315, 0.01007, 0.01007]));
    // Three backward passes without zeroing: three times the (wrong) gradient, as the source prints
    // (0.0003, -0.1359, 0.0302, 0.0302).
    const wrong = s.value("g_wrong")!.toList() as number[];
    expect(s.value("g_thrice")?.toList()).toEqual(close(wrong.map((x) => 3 * x)));
    const thrice = s.value("g_thrice")!.toList() as number[];
    expect(thrice.map((x) => Number(x.toFixed(4)))).toEqual([0.0003, -0.1359, 0.0302, 0.0302]);
  });

  it("the cross-entropy fixture evaluates with accuracy", () => {
    const s = new Scheduler();
    s.setGraph(fixture("cross-entropy.graph.json"));
    s.evaluate();
    expect(s.errors()).toEqual([]);
    expect(s.value("logits")?.shape).toEqual([6, 3]);
    expect(s.value("acc")?.dtype).toBe("float32");
    expect(s.objective()).toEqual({ nodeId: "loss", port: "out" });
  });
});

describe("gradientFault: where a NaN or infinite gradient starts", () => {
  it("the first node, back from the loss, whose backward turns a finite gradient into a non-finite one", () => {
    const doc = sqrtAtZero();
    const s = new Scheduler();
    s.setGraph(doc.state);
    // At w = 2 every gradient is finite.
    expect(s.gradientFault()).toBeUndefined();
    doc.setParam("w", "data", [0]);
    s.setGraph(doc.state);
    const w = s.leaves("w")[""];
    const before = w.grad;
    // sqrt hands inf to its input (0.5 / sqrt(0)); pow's nan (2 * 0 * inf) comes from a gradient already inf.
    expect(s.gradientFault({ nodeId: "loss", port: "out" })).toEqual({
      params: [{ id: "w", what: "nan" }],
      nodeId: "root",
      input: "input",
      what: "inf",
    });
    expect(w.grad).toBe(before);
    // Values afterwards are the plain ones.
    s.evaluate();
    expect(s.value("loss")?.item()).toBe(0);
    expect(s.gradients().params.get("w")?.toList()).toEqual([Number.NaN]);
  });

  it("a custom function's backward, when only some elements go bad", () => {
    const doc = build(
      [
        ["w", "tensor", { data: [0, 1, 2], dtype: "float64", requires_grad: true }],
        ["f", "custom_function", { name: "Odd", forward: "x", backward: "grad_output / x" }],
        ["twice", "mul", { other: 2 }],
        ["loss", "sum"],
        ["opt", "SGD"],
      ],
      [
        ["w", "f", "input"],
        ["f", "twice", "input"],
        ["twice", "loss", "input"],
        ["loss", "opt", "loss"],
      ],
    );
    const s = new Scheduler();
    s.setGraph(doc.state);
    expect(s.gradientFault()).toEqual({
      params: [{ id: "w", what: "inf" }],
      nodeId: "f",
      input: "input",
      what: "inf",
    });
  });
});
