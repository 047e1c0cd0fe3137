/**
 * Toy data sets drawn from PyTorch's generator, each written twice, line for line: in TypeScript for gradwire
 * and in Python for exported scripts (`python`), with the same float64 operations in the same order, so a
 * script rebuilds the very values gradwire trains on. Random numbers come from torch calls after
 * torch.manual_seed(seed) (float64 draws); sines and cosines are correctly rounded on both sides (glibc's
 * math module in Python), and the result is rounded once to the node's dtype.
 */
import { exactSinCos, normalValues, TorchGenerator, uniformValues } from "../../runtime/index.ts";

export interface ToyData {
  /** Row-major [n, features], float64. */
  X: number[];
  features: number;
  /** Class indices, or float targets for make_regression. */
  y: number[];
}

export interface ToyParams {
  n_samples: number;
  noise: number;
  seed: number;
  factor: number;
  centers: number;
  n_features: number;
  cluster_std: number;
  bias: number;
  classes: number;
}

/** Points on a half circle from angle 0 to pi, inclusive (sklearn's linspace(0, pi, n)). */
const halfTurn = (i: number, n: number) => (n > 1 ? (Math.PI * i) / (n - 1) : 0);

/** Two groups of points, the first n/2 (rounded down) class 0 and the rest class 1, each point plus noise. */
function twoGroups(p: ToyParams, point: (outer: boolean, i: number, m: number) => [number, number]): ToyData {
  const n = p.n_samples;
  const z = normalValues(new TorchGenerator(p.seed), 2 * n, "float64");
  const nOut = Math.floor(n / 2);
  const X: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < n; k++) {
    const outer = k < nOut;
    const [a, b] = outer ? point(true, k, nOut) : point(false, k - nOut, n - nOut);
    X.push(a + p.noise * z[2 * k], b + p.noise * z[2 * k + 1]);
    y.push(outer ? 0 : 1);
  }
  return { X, features: 2, y };
}

export const makeMoons = (p: ToyParams): ToyData =>
  twoGroups(p, (outer, i, m) => {
    const [sin, cos] = exactSinCos(halfTurn(i, m));
    return outer ? [cos, sin] : [1 - cos, 1 - sin - 0.5];
  });

export const makeCircles = (p: ToyParams): ToyData =>
  twoGroups(p, (outer, i, m) => {
    const [sin, cos] = exactSinCos((2 * Math.PI * i) / m);
    const r = outer ? 1 : p.factor;
    return [r * cos, r * sin];
  });

export function makeBlobs(p: ToyParams): ToyData {
  const f = p.n_features;
  const g = new TorchGenerator(p.seed);
  const centers = uniformValues(g, p.centers * f, "float64", -10, 10);
  const z = normalValues(g, p.n_samples * f, "float64");
  const X: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < p.n_samples; k++) {
    const c = k % p.centers;
    for (let j = 0; j < f; j++) X.push(centers[c * f + j] + p.cluster_std * z[k * f + j]);
    y.push(c);
  }
  return { X, features: f, y };
}

export function makeRegression(p: ToyParams): ToyData {
  const f = p.n_features;
  const g = new TorchGenerator(p.seed);
  const X = normalValues(g, p.n_samples * f, "float64");
  const coef = uniformValues(g, f, "float64", 0, 100);
  const z = normalValues(g, p.n_samples, "float64");
  const y: number[] = [];
  for (let k = 0; k < p.n_samples; k++) {
    let s = 0;
    for (let j = 0; j < f; j++) s += X[k * f + j] * coef[j];
    y.push(s + p.bias + p.noise * z[k]);
  }
  return { X, features: f, y };
}

/** Class j's share of n points: n / classes, the first n % classes classes one more. */
const share = (n: number, classes: number, j: number) => Math.floor(n / classes) + (j < n % classes ? 1 : 0);

export function spirals(p: ToyParams): ToyData {
  const z = normalValues(new TorchGenerator(p.seed), p.n_samples, "float64");
  const X: number[] = [];
  const y: number[] = [];
  let k = 0;
  for (let j = 0; j < p.classes; j++) {
    const m = share(p.n_samples, p.classes, j);
    for (let i = 0; i < m; i++, k++) {
      const r = m > 1 ? i / (m - 1) : 0;
      const [sin, cos] = exactSinCos(4 * j + 4 * r + p.noise * z[k]);
      X.push(r * sin, r * cos);
      y.push(j);
    }
  }
  return { X, features: 2, y };
}

export function xor(p: ToyParams): ToyData {
  const g = new TorchGenerator(p.seed);
  const u = uniformValues(g, 2 * p.n_samples, "float64", -1, 1);
  const z = normalValues(g, 2 * p.n_samples, "float64");
  const X: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < p.n_samples; k++) {
    y.push(u[2 * k] > 0 !== u[2 * k + 1] > 0 ? 1 : 0);
    X.push(u[2 * k] + p.noise * z[2 * k], u[2 * k + 1] + p.noise * z[2 * k + 1]);
  }
  return { X, features: 2, y };
}

/** A Python function `name(args)` that seeds torch's generator and runs `body`. */
const recipe =
  (args: string, doc: string, body: string[]) =>
  (name: string): string[] => [
    `def ${name}(${args}):`,
    `    """${doc}"""`,
    "    torch.manual_seed(seed)",
    ...body.map((line) => `    ${line}`),
  ];

/** The same recipes in Python, for exported scripts: each returns (X rows, y) as lists. */
export const TOY_PYTHON: Record<string, (name: string) => string[]> = {
  make_moons: recipe(
    "n_samples, noise, seed",
    "gradwire's make_moons: two interleaved half circles, float64, torch's generator for the noise.",
    [
      "z = torch.randn(n_samples, 2, dtype=torch.float64).tolist()",
      "n_out = n_samples // 2",
      "X, y = [], []",
      "for k in range(n_samples):",
      "    outer = k < n_out",
      "    i, m = (k, n_out) if outer else (k - n_out, n_samples - n_out)",
      "    t = math.pi * i / (m - 1) if m > 1 else 0.0",
      "    a = math.cos(t) if outer else 1 - math.cos(t)",
      "    b = math.sin(t) if outer else 1 - math.sin(t) - 0.5",
      "    X.append([a + noise * z[k][0], b + noise * z[k][1]])",
      "    y.append(0 if outer else 1)",
      "return X, y",
    ],
  ),
  make_circles: recipe(
    "n_samples, noise, factor, seed",
    "gradwire's make_circles: a circle of radius 1 around one of radius factor, float64.",
    [
      "z = torch.randn(n_samples, 2, dtype=torch.float64).tolist()",
      "n_out = n_samples // 2",
      "X, y = [], []",
      "for k in range(n_samples):",
      "    outer = k < n_out",
      "    t = 2 * math.pi * k / n_out if outer else 2 * math.pi * (k - n_out) / (n_samples - n_out)",
      "    r = 1 if outer else factor",
      "    X.append([r * math.cos(t) + noise * z[k][0], r * math.sin(t) + noise * z[k][1]])",
      "    y.append(0 if outer else 1)",
      "return X, y",
    ],
  ),
  make_blobs: recipe(
    "n_samples, centers, n_features, cluster_std, seed",
    "gradwire's make_blobs: centers uniform in [-10, 10), points normal around them (sample k in blob k % centers).",
    [
      "c = torch.empty(centers, n_features, dtype=torch.float64).uniform_(-10, 10).tolist()",
      "z = torch.randn(n_samples, n_features, dtype=torch.float64).tolist()",
      "X = [[c[k % centers][j] + cluster_std * z[k][j] for j in range(n_features)] for k in range(n_samples)]",
      "return X, [k % centers for k in range(n_samples)]",
    ],
  ),
  make_regression: recipe(
    "n_samples, n_features, noise, bias, seed",
    "gradwire's make_regression: X normal, y = X @ coef + bias + noise, coef uniform in [0, 100).",
    [
      "X = torch.randn(n_samples, n_features, dtype=torch.float64).tolist()",
      "coef = torch.empty(n_features, dtype=torch.float64).uniform_(0, 100).tolist()",
      "z = torch.randn(n_samples, dtype=torch.float64).tolist()",
      "y = []",
      "for k in range(n_samples):",
      "    s = 0.0",
      "    for j in range(n_features):",
      "        s += X[k][j] * coef[j]",
      "    y.append(s + bias + noise * z[k])",
      "return X, y",
    ],
  ),
  spirals: recipe(
    "n_samples, classes, noise, seed",
    "gradwire's spirals: one arm per class, radius 0 to 1 while the angle turns 4 radians plus noise.",
    [
      "z = torch.randn(n_samples, dtype=torch.float64).tolist()",
      "X, y, k = [], [], 0",
      "for j in range(classes):",
      "    m = n_samples // classes + (1 if j < n_samples % classes else 0)",
      "    for i in range(m):",
      "        r = i / (m - 1) if m > 1 else 0.0",
      "        t = 4 * j + 4 * r + noise * z[k]",
      "        X.append([r * math.sin(t), r * math.cos(t)])",
      "        y.append(j)",
      "        k += 1",
      "return X, y",
    ],
  ),
  xor: recipe(
    "n_samples, noise, seed",
    "gradwire's xor: points uniform in [-1, 1)^2, class 1 where the coordinates' signs differ.",
    [
      "u = torch.empty(n_samples, 2, dtype=torch.float64).uniform_(-1, 1).tolist()",
      "z = torch.randn(n_samples, 2, dtype=torch.float64).tolist()",
      "y = [1 if (a > 0) != (b > 0) else 0 for a, b in u]",
      "X = [[u[k][0] + noise * z[k][0], u[k][1] + noise * z[k][1]] for k in range(n_samples)]",
      "return X, y",
    ],
  ),
};
