// Autograd semantics against PyTorch running the same scripts: accumulation, retain_graph, detach, no_grad,
// explicit gradients, custom functions (the forward-backward tutorial's wrong `square` included).
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyFunction,
  type CustomFunction,
  type FunctionContext,
  noGrad,
  ops as O,
  type Tensor,
  tensor,
} from "../../src/runtime/index.ts";
import {
  decodeNum,
  expectTensor,
  type Flat,
  type ScriptAnswer,
  torchBatch,
  type WireNum,
} from "../helpers/torch.ts";

type Value = Tensor | number | boolean | null;

/** The tutorial's `square`: its backward returns grad_output and forgets the 2 * input factor. */
const WrongSquare: CustomFunction = {
  name: "square",
  forward(ctx: FunctionContext, i: Tensor) {
    const result = O.pow(i, 2);
    ctx.saveForBackward(result);
    return result;
  },
  backward(_ctx: FunctionContext, grad: Tensor) {
    return grad;
  },
};

const TrueSquare: CustomFunction = {
  name: "TrueSquare",
  forward(ctx: FunctionContext, i: Tensor) {
    ctx.saveForBackward(i);
    return O.mul(i, i);
  },
  backward(ctx: FunctionContext, grad: Tensor) {
    const [i] = ctx.saved;
    return O.mul(O.mul(i, 2), grad);
  },
};

function throws(fn: () => unknown): boolean {
  try {
    fn();
  } catch {
    return true;
  }
  return false;
}

const f64 = (v: number[] | number[][], requiresGrad = true) => tensor(v, { dtype: "float64", requiresGrad });

/** The same scripts as tests/reference/torch_ref.py, written with gradwire's API. */
const SCRIPTS: Record<string, () => Record<string, Value>> = {
  tutorial: () => {
    const yvar = tensor([0, 1, 0, 0], { dtype: "float32", requiresGrad: true });
    const pvar = tensor([0.001, 0.5, 0.1, 0.1], { dtype: "float32", requiresGrad: true });
    const plow = tensor([0.001, 0.55, 0.1, 0.1], { dtype: "float32", requiresGrad: true });
    const l2 = O.pow(O.norm(O.sub(yvar, pvar)), 2);
    const l2low = O.pow(O.norm(O.sub(yvar, plow)), 2);
    const delta = O.sub(l2.detach(), l2low.detach());
    const out: Record<string, Value> = { LossDelta: delta, L2LossVar: l2, L2LossVarLowerLoss: l2low };
    l2low.backward(delta, { retainGraph: true });
    out.firstGradientResult = plow.grad!.copy();
    out["Yvar.grad.first"] = yvar.grad!.copy();
    const custom = applyFunction(WrongSquare, O.norm(O.sub(yvar, plow)));
    out.L2LossCustom = custom;
    plow.grad!.data.fill(0); // PvarLowerLoss.grad.data.zero_()
    custom.backward(delta, { retainGraph: true });
    out.customGrad1 = plow.grad!.copy();
    custom.backward(delta, { retainGraph: true });
    out.customGrad2 = plow.grad!.copy();
    custom.backward(delta, { retainGraph: true });
    out.customGrad3 = plow.grad!.copy();
    out["Yvar.grad"] = yvar.grad!.copy();
    out["Pvar.grad"] = pvar.grad;
    return out;
  },
  accumulate: () => {
    const x = f64([1.5, -2.0, 0.25]);
    const y = O.sum(O.mul(O.mul(x, x), x));
    y.backward(undefined, { retainGraph: true });
    const g1 = x.grad!.copy();
    y.backward(undefined, { retainGraph: true });
    const g2 = x.grad!.copy();
    y.backward();
    const g3 = x.grad!.copy();
    const err = throws(() => y.backward());
    x.grad = null;
    O.sum(O.mul(O.exp(x), 2)).backward();
    return { g1, g2, g3, second_backward_error: err, fresh: x.grad };
  },
  no_saved_tensors: () => {
    const x = f64([1, 2]);
    const y = O.sum(O.add(x, 1));
    y.backward();
    const err = throws(() => y.backward());
    return { error: err, grad: x.grad };
  },
  detach: () => {
    const x = f64([0.5, -1.5, 2.0]);
    const y = O.mul(x, 3);
    const d = y.detach();
    O.sum(O.mul(y, d)).backward();
    return { grad: x.grad, detached_requires_grad: d.requiresGrad, is_leaf: d.isLeaf };
  },
  no_grad: () => {
    const x = f64([0.5, -1.5]);
    const y = noGrad(() => O.mul(x, 2));
    const z = O.sum(O.mul(x, y));
    z.backward();
    return { y_requires_grad: y.requiresGrad, grad: x.grad, z_requires_grad: z.requiresGrad };
  },
  explicit_gradient: () => {
    const x = f64([
      [1, 2],
      [3, -4],
    ]);
    const y = O.add(O.mul(x, x), x);
    y.backward(
      tensor(
        [
          [0.5, -1],
          [2, 0.25],
        ],
        { dtype: "float64" },
      ),
    );
    const g1 = x.grad!.copy();
    const w = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    O.sum(O.mul(w, w)).backward(tensor(3, { dtype: "float32" }));
    const err = throws(() => O.mul(x, 2).backward());
    return { grad: g1, scalar_grad: w.grad, nonscalar_error: err };
  },
  custom_function: () => {
    const x = f64([0.5, -1.5, 2.0]);
    const y = O.sum(applyFunction(TrueSquare, O.mul(x, 2)));
    y.backward();
    const g = x.grad!.copy();
    x.grad = null;
    O.sum(applyFunction(WrongSquare, x)).backward();
    return { grad: g, wrong_grad: x.grad, y };
  },
  shared_subgraph: () => {
    const a = f64([0.3, -0.7, 1.1]);
    const b = f64([2.0, 0.5, -1.0]);
    const h = O.mul(a, b);
    const out = O.sum(O.sub(O.add(O.mul(h, h), O.exp(h)), a));
    out.backward();
    return { a: a.grad, b: b.grad, out };
  },
  leaf_no_grad_input: () => {
    const x = tensor([1, 2], { dtype: "float32" });
    const w = tensor([0.5, 0.25], { dtype: "float32", requiresGrad: true });
    const y = O.sum(O.mul(x, w));
    y.backward();
    return { x_grad_is_none: x.grad === null, w: w.grad, y_is_leaf: y.isLeaf };
  },
  errors: () => {
    const x = f64([1, 2]);
    const plain = f64([1, 2], false);
    const y = O.mul(x, x);
    return {
      backward_without_grad: throws(() => O.sum(plain).backward()),
      implicit_nonscalar: throws(() => y.backward()),
      gradient_shape_mismatch: throws(() => y.backward(tensor([1, 1, 1], { dtype: "float64" }))),
      gradient_expandable_shape: throws(() =>
        y.backward(
          f64(
            [
              [1, 1],
              [2, 2],
            ],
            false,
          ),
        ),
      ),
      gradient_same_count_other_shape: throws(() => y.backward(f64([[1], [2]], false))),
      int_requires_grad: throws(() => tensor([1, 2]).requiresGrad_()),
    };
  },
  backward_from_leaf: () => {
    const x = f64([1, -2]);
    x.backward(tensor([0.5, 0.25], { dtype: "float64" }));
    x.backward(tensor([1, 1], { dtype: "float64" }));
    return { grad: x.grad };
  },
};

const names = Object.keys(SCRIPTS);

describe("autograd semantics match PyTorch running the same scripts", () => {
  let answers: ScriptAnswer[] = [];
  beforeAll(() => {
    answers = torchBatch(names.map((name) => ({ kind: "script" as const, name }))) as ScriptAnswer[];
  });
  for (const [i, name] of names.entries())
    it(name, () => {
      const want = answers[i];
      if (want.error) throw new Error(`torch: ${want.error}`);
      const got = SCRIPTS[name]();
      expect(Object.keys(got).sort()).toEqual(Object.keys(want.values).sort());
      for (const [key, expected] of Object.entries(want.values)) {
        const actual = got[key];
        if (expected !== null && typeof expected === "object") {
          expectTensor(actual as Tensor | null, expected as Flat, key);
        } else if (expected === null) expect(actual, key).toBeNull();
        else if (typeof expected === "boolean") expect(actual, key).toBe(expected);
        else expect(actual, key).toBeCloseTo(decodeNum(expected as WireNum), 12);
      }
    });
});

describe("the forward-backward tutorial's printed values", () => {
  const v = SCRIPTS.tutorial();
  const list = (k: string) => Array.from((v[k] as Tensor).data);
  it("LossDelta is 4.7500e-02 and both losses print 0.2225", () => {
    expect((v.LossDelta as Tensor).item()).toBeCloseTo(0.0475, 6);
    expect((v.L2LossVarLowerLoss as Tensor).item()).toBeCloseTo(0.2225, 4);
    expect((v.L2LossCustom as Tensor).item()).toBeCloseTo(0.2225, 4);
  });
  it("pow(norm, 2) gives 1e-2 * [0.0095, -4.2750, 0.9500, 0.9500]", () => {
    [0.000095, -0.04275, 0.0095, 0.0095].forEach((e, k) => {
      expect(list("firstGradientResult")[k]).toBeCloseTo(e, 6);
    });
  });
  it("the wrong-backward square gives 1e-2 * [0.0101, -4.5315, 1.0070, 1.0070]", () => {
    [0.000101, -0.045315, 0.01007, 0.01007].forEach((e, k) => {
      expect(list("customGrad1")[k]).toBeCloseTo(e, 6);
    });
  });
  it("without zeroing, the gradient accumulates: 1e-2 * [0.0201, -9.0630, 2.0140, 2.0140], then [0.0003, -0.1359, 0.0302, 0.0302]", () => {
    [0.000201, -0.09063, 0.02014, 0.02014].forEach((e, k) => {
      expect(list("customGrad2")[k]).toBeCloseTo(e, 6);
    });
    [0.0003, -0.1359, 0.0302, 0.0302].forEach((e, k) => {
      expect(list("customGrad3")[k]).toBeCloseTo(e, 4);
    });
  });
});

describe("autograd messages", () => {
  it("a second backward through a freed graph says how to keep it", () => {
    const x = f64([1, 2]);
    const y = O.sum(O.mul(x, x));
    y.backward();
    expect(() => y.backward()).toThrow(/second time.*retainGraph: true/);
  });
  it("backward from a tensor that does not require grad", () => {
    expect(() => O.sum(f64([1], false)).backward()).toThrow(/does not require grad/);
  });
  it("an implicit gradient needs a scalar", () => {
    expect(() => O.mul(f64([1, 2]), 2).backward()).toThrow(/only for scalar outputs/);
  });
  it("a gradient of the wrong shape names both shapes", () => {
    expect(() => O.mul(f64([1, 2]), 2).backward(tensor([1, 2, 3], { dtype: "float64" }))).toThrow(
      /\[3\].*\[2\]/,
    );
  });
  it("integer tensors cannot require grad", () => {
    expect(() => tensor([1, 2]).requiresGrad_()).toThrow(/floating point/);
  });
});
