// Property-based gradient checks: over random shapes and values (fast-check), every op's backward agrees with
// central finite differences of its own forward, in float64.
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  fromFlat,
  huberLoss,
  klDiv,
  l1Loss,
  mseLoss,
  nllLoss,
  noGrad,
  ops as O,
  type Shape,
  smoothL1Loss,
  type Tensor,
} from "../../src/runtime/index.ts";
import { makeRandom } from "../helpers/torch.ts";

const RUNS = 50;
const H = 1e-6;

interface Domain {
  lo: number;
  hi: number;
  /** Points where the op has a kink (or a pole): inputs keep at least `margin` away from them. */
  avoid?: number[];
  margin?: number;
}
const ANY: Domain = { lo: -2, hi: 2 };
const POSITIVE: Domain = { lo: 0.2, hi: 3 };

function values(n: number, seed: number, d: Domain): number[] {
  const rand = makeRandom(seed);
  const margin = d.margin ?? 0.01;
  return Array.from({ length: n }, () => {
    let v = d.lo + (d.hi - d.lo) * rand();
    for (const k of d.avoid ?? []) if (Math.abs(v - k) < margin) v = k + (v < k ? -margin : margin);
    return v;
  });
}

function leaf(shape: Shape, seed: number, d: Domain = ANY): Tensor {
  const n = shape.reduce((p, s) => p * s, 1);
  return fromFlat(values(n, seed, d), shape, "float64", { requiresGrad: true });
}

/**
 * Backward of sum(f(x) * w) against (L(x + h) - L(x - h)) / 2h per element, with w random so no element's
 * gradient hides behind a symmetric sum.
 */
function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number): void {
  for (const x of inputs) x.grad = null;
  const out = f(...inputs);
  const w = fromFlat(values(out.numel, seed ^ 0x5eed, { lo: -1, hi: 1 }), out.shape, "float64");
  const loss = (): number => noGrad(() => O.sum(O.mul(f(...inputs), w)).item());
  O.sum(O.mul(out, w)).backward();
  for (const [k, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    for (let i = 0; i < x.numel; i++) {
      const orig = x.data[i];
      x.data[i] = orig + H;
      x.version++;
      const up = loss();
      x.data[i] = orig - H;
      x.version++;
      const down = loss();
      x.data[i] = orig;
      x.version++;
      const numeric = (up - down) / (2 * H);
      const analytic = x.grad ? x.grad.data[i] : 0;
      if (!(Math.abs(analytic - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric)))
        throw new Error(
          `input ${k} [${x.shape}] element ${i} (value ${orig}): backward ${analytic}, finite difference ${numeric}`,
        );
    }
  }
}

const shapeArb = (minRank = 0, maxRank = 3) =>
  fc.array(fc.integer({ min: 1, max: 4 }), { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });

/** A shape that broadcasts against `s`: some dims set to 1, some leading dims dropped. */
function broadcastPartner(s: number[], mask: number): number[] {
  const keep = s.length > 0 ? mask % (s.length + 1) : 0;
  return s.slice(keep === 0 ? 0 : keep - 1).map((d, i) => ((mask >> (i + 3)) & 1 ? 1 : d));
}

function property<T>(name: string, arb: fc.Arbitrary<T>, check: (v: T) => void): void {
  it(name, () => {
    fc.assert(fc.property(arb, check), { numRuns: RUNS });
  });
}

describe("unary ops: backward equals finite differences", () => {
  const UNARY: [string, (x: Tensor) => Tensor, Domain][] = [
    ["neg", O.neg, ANY],
    ["abs", O.abs, { ...ANY, avoid: [0] }],
    ["exp", O.exp, ANY],
    ["log", O.log, POSITIVE],
    ["log1p", O.log1p, { lo: -0.8, hi: 3 }],
    ["sqrt", O.sqrt, POSITIVE],
    ["sigmoid", O.sigmoid, { lo: -6, hi: 6 }],
    ["logsigmoid", O.logSigmoid, { lo: -6, hi: 6 }],
    ["tanh", O.tanh, ANY],
    ["relu", O.relu, { ...ANY, avoid: [0] }],
    ["leaky_relu 0.1", (x) => O.leakyRelu(x, 0.1), { ...ANY, avoid: [0] }],
    ["gelu", (x) => O.gelu(x), { lo: -4, hi: 4 }],
    ["gelu tanh", (x) => O.gelu(x, "tanh"), { lo: -4, hi: 4 }],
    ["softplus", (x) => O.softplus(x), { lo: -5, hi: 5 }],
    ["softplus beta 3 threshold 4", (x) => O.softplus(x, 3, 4), { lo: -3, hi: 3, avoid: [4 / 3] }],
    ["clamp", (x) => O.clamp(x, -0.5, 0.7), { ...ANY, avoid: [-0.5, 0.7] }],
    ["pow 3", (x) => O.pow(x, 3), ANY],
    ["pow 2.5", (x) => O.pow(x, 2.5), POSITIVE],
    ["pow -1.5", (x) => O.pow(x, -1.5), POSITIVE],
  ];
  for (const [name, f, domain] of UNARY)
    property(name, fc.tuple(shapeArb(), seedArb), ([shape, seed]) => {
      gradcheck(f, [leaf(shape, seed, domain)], seed);
    });
});

describe("binary ops with broadcasting: backward equals finite differences", () => {
  const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, Domain, Domain][] = [
    ["add", O.add, ANY, ANY],
    ["sub", O.sub, ANY, ANY],
    ["mul", O.mul, ANY, ANY],
    ["div", O.div, ANY, { lo: 0.5, hi: 2 }],
    ["pow", O.pow, POSITIVE, ANY],
    ["maximum", O.maximum, ANY, ANY],
    ["minimum", O.minimum, ANY, ANY],
    ["xlogy", O.xlogy, ANY, POSITIVE],
    ["where", (a, b) => O.where(O.gt(a, 0), a, b), { ...ANY, avoid: [0] }, ANY],
  ];
  for (const [name, f, da, db] of BINARY)
    property(name, fc.tuple(shapeArb(), seedArb, fc.nat(255), fc.boolean()), ([shape, seed, mask, swap]) => {
      const other = broadcastPartner(shape, mask);
      const [sa, sb] = swap ? [other, shape] : [shape, other];
      gradcheck(f, [leaf(sa, seed, da), leaf(sb, seed + 1, db)], seed);
    });
});

/** A shape with at least one dim, a dim index into it (possibly negative) and a keepdim flag. */
const reduceArb = fc
  .tuple(shapeArb(1, 3), seedArb, fc.nat(5), fc.boolean())
  .map(([shape, seed, k, keepdim]) => ({
    shape,
    seed,
    dim: (k % shape.length) - (k >= 3 ? shape.length : 0),
    keepdim,
  }));

describe("reductions: backward equals finite differences", () => {
  property("sum all", fc.tuple(shapeArb(), seedArb), ([shape, seed]) => {
    gradcheck((x) => O.sum(x), [leaf(shape, seed)], seed);
  });
  property("sum dim", reduceArb, ({ shape, seed, dim, keepdim }) => {
    gradcheck((x) => O.sum(x, dim, keepdim), [leaf(shape, seed)], seed);
  });
  property("sum two dims", reduceArb, ({ shape, seed, keepdim }) => {
    gradcheck((x) => O.sum(x, [0, -1], keepdim), [leaf(shape, seed)], seed);
  });
  property("mean dim", reduceArb, ({ shape, seed, dim, keepdim }) => {
    gradcheck((x) => O.mean(x, dim, keepdim), [leaf(shape, seed)], seed);
  });
  property("mean all", fc.tuple(shapeArb(), seedArb), ([shape, seed]) => {
    gradcheck((x) => O.mean(x), [leaf(shape, seed)], seed);
  });
  property("max all", fc.tuple(shapeArb(), seedArb), ([shape, seed]) => {
    gradcheck((x) => O.max(x), [leaf(shape, seed)], seed);
  });
  property("max dim", reduceArb, ({ shape, seed, dim, keepdim }) => {
    gradcheck((x) => O.maxDim(x, dim, keepdim).values, [leaf(shape, seed)], seed);
  });
  property("min dim", reduceArb, ({ shape, seed, dim, keepdim }) => {
    gradcheck((x) => O.minDim(x, dim, keepdim).values, [leaf(shape, seed)], seed);
  });
  for (const p of [1, 1.5, 2, 3, Number.POSITIVE_INFINITY])
    property(`norm p=${p}`, reduceArb, ({ shape, seed, dim, keepdim }) => {
      const x = leaf(shape, seed, { ...ANY, avoid: [0], margin: 0.05 });
      gradcheck((t) => O.norm(t, p), [x], seed);
      gradcheck(
        (t) => O.norm(t, p, dim, keepdim),
        [leaf(shape, seed + 7, { ...ANY, avoid: [0], margin: 0.05 })],
        seed,
      );
    });
  property("logsumexp", reduceArb, ({ shape, seed, dim, keepdim }) => {
    gradcheck((x) => O.logsumexp(x, dim, keepdim), [leaf(shape, seed, { lo: -5, hi: 5 })], seed);
  });
});

describe("softmax family: backward equals finite differences", () => {
  property("softmax", reduceArb, ({ shape, seed, dim }) => {
    gradcheck((x) => O.softmax(x, dim), [leaf(shape, seed, { lo: -4, hi: 4 })], seed);
  });
  property("log_softmax", reduceArb, ({ shape, seed, dim }) => {
    gradcheck((x) => O.logSoftmax(x, dim), [leaf(shape, seed, { lo: -4, hi: 4 })], seed);
  });
  property("log_softmax of large logits", reduceArb, ({ shape, seed, dim }) => {
    gradcheck((x) => O.logSoftmax(x, dim), [leaf(shape, seed, { lo: 500, hi: 510 })], seed);
  });
});

describe("matmul and layout: backward equals finite differences", () => {
  const matArb = fc
    .tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.nat(8),
      seedArb,
    )
    .map(([m, k, n, kind, seed]) => {
      const shapes: [number[], number[]][] = [
        [[k], [k]],
        [[k], [k, n]],
        [[m, k], [k]],
        [
          [m, k],
          [k, n],
        ],
        [
          [2, m, k],
          [2, k, n],
        ],
        [
          [2, 1, m, k],
          [3, k, n],
        ],
        [
          [m, k],
          [2, k, n],
        ],
        [[k], [2, k, n]],
        [[2, m, k], [k]],
      ];
      return { shapes: shapes[kind], seed };
    });
  property("matmul", matArb, ({ shapes: [sa, sb], seed }) => {
    gradcheck(O.matmul, [leaf(sa, seed), leaf(sb, seed + 1)], seed);
  });
  property("linear", matArb, ({ seed }) => {
    gradcheck(
      (x, w, b) => O.linear(x, w, b),
      [leaf([3, 4], seed), leaf([2, 4], seed + 1), leaf([2], seed + 2)],
      seed,
    );
  });
  property("transpose, reshape, expand, cat, narrow", fc.tuple(shapeArb(2, 3), seedArb), ([shape, seed]) => {
    gradcheck(
      (x) => {
        const t = O.transpose(x, 0, -1);
        const r = O.reshape(t, [-1]);
        const c = O.cat([r, O.narrow(r, 0, 0, 1)], 0);
        return O.stack(
          [
            O.expand(O.unsqueeze(c, 0), [2, c.numel]),
            O.permute(O.expand(O.unsqueeze(c, 1), [c.numel, 2]), [1, 0]),
          ],
          2,
        );
      },
      [leaf(shape, seed)],
      seed,
    );
  });
  property("gather and index_select", fc.tuple(shapeArb(2, 2), seedArb), ([shape, seed]) => {
    const rand = makeRandom(seed);
    const [r, c] = shape;
    const idx = fromFlat(
      Array.from({ length: r * 3 }, () => Math.floor(rand() * c)),
      [r, 3],
      "int64",
    );
    const sel = fromFlat([r - 1, 0, r - 1], [3], "int64");
    gradcheck((x) => O.gather(x, 1, idx), [leaf(shape, seed)], seed);
    gradcheck((x) => O.indexSelect(x, 0, sel), [leaf(shape, seed + 1)], seed);
  });
});

/** Losses take a batch of 2..5 rows of 2..5 classes (or features). */
const lossArb = fc.tuple(
  fc.integer({ min: 2, max: 5 }),
  fc.integer({ min: 2, max: 5 }),
  seedArb,
  fc.constantFrom("none", "mean", "sum"),
);

describe("losses: backward equals finite differences", () => {
  property("mse_loss, input and target", lossArb, ([n, c, seed, reduction]) => {
    gradcheck((x, y) => mseLoss(x, y, { reduction }), [leaf([n, c], seed), leaf([n, c], seed + 1)], seed);
  });
  property("l1_loss", lossArb, ([n, c, seed, reduction]) => {
    const x = leaf([n, c], seed);
    const y = fromFlat(
      Array.from(x.data, (v, i) => v + (i % 2 ? 0.3 : -0.4)),
      [n, c],
      "float64",
    );
    gradcheck((a) => l1Loss(a, y, { reduction }), [x], seed);
  });
  property("smooth_l1_loss and huber_loss", lossArb, ([n, c, seed, reduction]) => {
    const y = leaf([n, c], seed + 1);
    const x = fromFlat(
      values(n * c, seed, { lo: -3, hi: 3, avoid: [-0.7, 0, 0.7], margin: 0.05 }).map(
        (d, i) => y.data[i] + d,
      ),
      [n, c],
      "float64",
      { requiresGrad: true },
    );
    gradcheck((a) => smoothL1Loss(a, y, { reduction, beta: 0.7 }), [x], seed);
    gradcheck((a) => huberLoss(a, y, { reduction, delta: 0.7 }), [x], seed);
  });
  property("binary_cross_entropy, input and target, with weight", lossArb, ([n, c, seed, reduction]) => {
    const w = fromFlat(values(c, seed + 3, POSITIVE), [c], "float64");
    gradcheck(
      (x, y) => binaryCrossEntropy(x, y, { reduction, weight: w }),
      [leaf([n, c], seed, { lo: 0.05, hi: 0.95 }), leaf([n, c], seed + 1, { lo: 0, hi: 1 })],
      seed,
    );
  });
  property("binary_cross_entropy_with_logits, weight and pos_weight", lossArb, ([n, c, seed, reduction]) => {
    const w = fromFlat(values(c, seed + 3, POSITIVE), [c], "float64");
    const pw = fromFlat(values(c, seed + 4, POSITIVE), [c], "float64");
    gradcheck(
      (x, y) => binaryCrossEntropyWithLogits(x, y, { reduction, weight: w, pos_weight: pw }),
      [leaf([n, c], seed, { lo: -5, hi: 5 }), leaf([n, c], seed + 1, { lo: 0, hi: 1 })],
      seed,
    );
  });
  property(
    "nll_loss and cross_entropy with weight, ignore_index, label_smoothing",
    lossArb,
    ([n, c, seed, reduction]) => {
      const rand = makeRandom(seed);
      const target = fromFlat(
        Array.from({ length: n }, (_, i) => (i === 0 ? 0 : Math.floor(rand() * c))),
        [n],
        "int64",
      );
      const w = fromFlat(values(c, seed + 3, POSITIVE), [c], "float64");
      gradcheck(
        (x) => nllLoss(x, target, { reduction, weight: w }),
        [leaf([n, c], seed, { lo: -3, hi: 0 })],
        seed,
      );
      gradcheck(
        (x) => crossEntropy(x, target, { reduction, weight: w, ignore_index: 1, label_smoothing: 0.2 }),
        [leaf([n, c], seed + 1, { lo: -3, hi: 3 })],
        seed,
      );
    },
  );
  property("cross_entropy with class probabilities, input and target", lossArb, ([n, c, seed, reduction]) => {
    gradcheck(
      (x, t) => crossEntropy(x, t, { reduction, label_smoothing: 0.1 }),
      [leaf([n, c, 2], seed, { lo: -3, hi: 3 }), leaf([n, c, 2], seed + 1, { lo: 0, hi: 1 })],
      seed,
    );
  });
  property("kl_div, both target forms", lossArb, ([n, c, seed]) => {
    for (const reduction of ["batchmean", "sum", "mean", "none"])
      gradcheck(
        (x, t) => klDiv(x, t, { reduction, log_target: true }),
        [leaf([n, c], seed, { lo: -3, hi: 0 }), leaf([n, c], seed + 1, { lo: -3, hi: 0 })],
        seed,
      );
    gradcheck(
      (x, t) => klDiv(x, t, { reduction: "batchmean" }),
      [leaf([n, c], seed + 2, { lo: -3, hi: 0 }), leaf([n, c], seed + 3, { lo: 0.05, hi: 1 })],
      seed,
    );
  });
});
