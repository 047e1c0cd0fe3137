// The node registry: one declaration per kind, named as in PyTorch, covering every runtime op and loss.
import { describe, expect, it } from "vitest";
import { defaultParams, paramSchema, registry } from "../../src/nodes/index.ts";
import { OPTIMIZER_SPECS, ops } from "../../src/runtime/index.ts";

describe("node registry", () => {
  it("has the kinds the product needs, with PyTorch names", () => {
    const required = [
      "tensor",
      "randn",
      "rand",
      "linspace",
      "arange",
      "model",
      "linear",
      "add",
      "sub",
      "mul",
      "div",
      "pow",
      "matmul",
      "sum",
      "mean",
      "norm",
      "max",
      "min",
      "relu",
      "sigmoid",
      "tanh",
      "leaky_relu",
      "gelu",
      "softplus",
      "softmax",
      "log_softmax",
      "l1_loss",
      "mse_loss",
      "smooth_l1_loss",
      "huber_loss",
      "binary_cross_entropy",
      "binary_cross_entropy_with_logits",
      "nll_loss",
      "cross_entropy",
      "kl_div",
      "SGD",
      "Adam",
      "AdamW",
      "RMSprop",
      "Adagrad",
      "NAdam",
      "RAdam",
      "Adamax",
      "Adadelta",
      "ASGD",
      "finite_difference",
      "custom_function",
      "argmax",
      "accuracy",
      "sweep",
      "grad",
    ];
    for (const t of required) expect(registry.has(t), t).toBe(true);
  });

  it("covers every elementwise op the runtime declares", () => {
    const alias: Record<string, string> = { pow_scalar: "pow", log_sigmoid: "logsigmoid" };
    for (const name of [...Object.keys(ops.UNARY), ...Object.keys(ops.BINARY)])
      expect(registry.has(alias[name] ?? name), name).toBe(true);
  });

  it("declares ports with help text and params whose defaults satisfy their own schema", () => {
    for (const kind of registry.list()) {
      expect(kind.description.length, kind.type).toBeGreaterThan(10);
      for (const p of kind.inputs) expect(p.help, `${kind.type}.${p.name}`).not.toBe("");
      for (const d of kind.params) {
        expect(d.help, `${kind.type}.${d.name}`).not.toBe("");
        const r = paramSchema(d).safeParse(d.default);
        expect(r.success, `${kind.type}.${d.name} default ${JSON.stringify(d.default)}`).toBe(true);
      }
      expect(Object.keys(defaultParams(kind))).toEqual(kind.params.map((p) => p.name));
    }
  });

  it("names tensor arguments as PyTorch does", () => {
    const ports = (t: string) => registry.get(t)?.inputs.map((p) => p.name);
    expect(ports("mse_loss")).toEqual(["input", "target"]);
    expect(ports("binary_cross_entropy_with_logits")).toEqual(["input", "target", "weight", "pos_weight"]);
    expect(ports("pow")).toEqual(["input", "exponent"]);
    expect(ports("add")).toEqual(["input", "other"]);
    expect(ports("linear")).toEqual(["input", "weight", "bias"]);
    expect(ports("SGD")).toEqual(["loss"]);
    const params = (t: string) => registry.get(t)?.params.map((p) => p.name);
    expect(params("cross_entropy")).toEqual(["ignore_index", "reduction", "label_smoothing"]);
    expect(params("Adam")).toEqual([
      "lr",
      "betas",
      "eps",
      "weight_decay",
      "amsgrad",
      "maximize",
      "zero_grad",
    ]);
  });

  it("groups kinds by family for the palette", () => {
    const fam = registry.byFamily();
    expect(fam.get("Losses")?.map((k) => k.type)).toContain("cross_entropy");
    // One kind per optimizer spec, in the specs' order, then the learning-rate schedulers.
    expect(fam.get("Optimizers")?.map((k) => k.type)).toEqual([
      ...OPTIMIZER_SPECS.map((s) => s.name),
      "StepLR",
      "MultiStepLR",
      "ExponentialLR",
      "CosineAnnealingLR",
      "LinearLR",
      "OneCycleLR",
      "ReduceLROnPlateau",
    ]);
    const total = [...fam.values()].reduce((n, ks) => n + ks.length, 0);
    expect(total).toBe(registry.list().length);
  });

  it("suggests the closest type for a misspelling", () => {
    expect(registry.suggest("msel_loss")).toBe("mse_loss");
    expect(registry.suggest("sgd")).toBe("SGD");
    expect(registry.suggest("completely_unrelated_name")).toBeUndefined();
  });

  it("refuses a kind declared twice", () => {
    const k = registry.get("relu")!;
    expect(() => registry.register(k)).toThrow(/declared twice/);
  });
});
