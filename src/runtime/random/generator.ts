/**
 * PyTorch's CPU generator and the transforms torch 1.13 applies to it, so that a seeded gradwire tensor equals
 * `torch.manual_seed(seed)` followed by the same torch call, bit for bit (aten/src/ATen/core/
 * DistributionsHelper.h, TransformationHelper.h, native/cpu/DistributionTemplates.h, TensorFactories.cpp).
 */
import { logf, sincosf } from "./avx-mathfun.ts";
import { fma, fmaf } from "./fma.ts";
import { log, sincos } from "./libm.ts";
import { MT19937 } from "./mt19937.ts";

/** The float dtypes torch's transforms distinguish: float32 draws 32-bit words, float64 64-bit ones. */
export type RandomFloat = "float32" | "float64";

const f = Math.fround;
const TWO_POW_24 = 2 ** 24;
const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

export class TorchGenerator {
  private engine: MT19937;
  /** Box-Muller's second value, kept for the next scalar normal draw (CPUGeneratorImpl's cache). */
  private nextNormal: number | null = null;

  /** `torch.manual_seed(seed)` / `torch.Generator().manual_seed(seed)`. */
  constructor(seed: number | bigint = 67280421310721n) {
    this.engine = new MT19937(seed);
  }

  /**
   * An independent copy at the same point of the sequence (`torch.random.fork_rng`'s saved state): what draws
   * from the copy leaves this generator where it was.
   */
  clone(): TorchGenerator {
    const c = new TorchGenerator(0);
    c.engine = this.engine.clone();
    c.nextNormal = this.nextNormal;
    return c;
  }

  /** One 32-bit word (CPUGeneratorImpl::random). */
  random(): number {
    return this.engine.nextU32();
  }

  /** One 64-bit word from two draws, the first the high half (CPUGeneratorImpl::random64). */
  random64(): bigint {
    const hi = this.random();
    const lo = this.random();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** uniform_real_distribution<T>(0, 1): 24 random bits for float32, 53 for float64. */
  uniform01(dtype: RandomFloat): number {
    if (dtype === "float32") return (this.random() & (TWO_POW_24 - 1)) / TWO_POW_24;
    const hi = this.random();
    const lo = this.random();
    return ((hi & 0x1fffff) * TWO_POW_32 + lo) / TWO_POW_53;
  }

  /** uniform_real_distribution<T>(from, to): `x * (to - from) + from`, in T. */
  uniform(from: number, to: number, dtype: RandomFloat): number {
    const x = this.uniform01(dtype);
    // x * (to - from) + from, contracted to one fused multiply-add by the compiler.
    if (dtype === "float64") return fma(x, to - from, from);
    return fmaf(x, f(f(to) - f(from)), f(from));
  }

  /** normal_distribution<double>: Box-Muller on two float64 uniforms, the sine kept for the next draw (torch
   * 1.13 takes log(1 - u2), not log1p). */
  normal(mean: number, std: number): number {
    if (this.nextNormal !== null) {
      const v = this.nextNormal;
      this.nextNormal = null;
      return fma(v, std, mean);
    }
    const u1 = this.uniform01("float64");
    const u2 = this.uniform01("float64");
    const r = Math.sqrt(-2 * log(1 - u2));
    const [sin, cos] = sincos(2 * Math.PI * u1);
    this.nextNormal = r * sin;
    return fma(r * cos, std, mean);
  }

  /** `random_(from, to)`: an integer in [low, high) (uniform_int_from_to_distribution). */
  integer(low: number, high: number): number {
    const range = high - low;
    if (range >= TWO_POW_32) return Number(this.random64() % BigInt(range)) + low;
    return (this.random() % range) + low;
  }

  /** `random_()` on an int64 tensor: 63 random bits (RandomSampler draws its seed this way). */
  int64(): bigint {
    return this.random64() % (1n << 63n);
  }
}

/** Values as `torch.randn(n)` (or `tensor.normal_(mean, std)` on a contiguous tensor) draws them. */
export function normalValues(g: TorchGenerator, n: number, dtype: RandomFloat, mean = 0, std = 1): number[] {
  if (n < 16) {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = g.normal(mean, std);
      out.push(dtype === "float32" ? f(v) : v);
    }
    return out;
  }
  // normal_fill: every value a uniform first, then Box-Muller 16 at a time (the first 8 paired with the next
  // 8); a tail shorter than 16 redraws the last 16 values and transforms them again.
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = g.uniform01(dtype);
  const fill16 = dtype === "float32" ? fill16Float32 : fill16Float64;
  for (let i = 0; i + 16 <= n; i += 16) fill16(data, i, mean, std);
  if (n % 16 !== 0) {
    for (let i = n - 16; i < n; i++) data[i] = g.uniform01(dtype);
    fill16(data, n - 16, mean, std);
  }
  return data;
}

/** normal_fill_16 in float64 (glibc's log, cos and sin; the scaling contracted to an FMA). */
function fill16Float64(d: number[], at: number, mean: number, std: number): void {
  for (let j = at; j < at + 8; j++) {
    const u1 = 1 - d[j];
    const u2 = d[j + 8];
    const radius = Math.sqrt(-2 * log(u1));
    const [sin, cos] = sincos(2 * Math.PI * u2);
    d[j] = fma(radius * cos, std, mean);
    d[j + 8] = fma(radius * sin, std, mean);
  }
}

const TWO_PI_F = f(2 * Math.PI);

/** normal_fill_16_AVX2: float32 lanes through avx_mathfun's log and sincos, then fma(n, std, mean). */
function fill16Float32(d: number[], at: number, mean: number, std: number): void {
  const m = f(mean);
  const s = f(std);
  for (let j = at; j < at + 8; j++) {
    const u1 = f(1 - d[j]);
    const radius = f(Math.sqrt(f(-2 * logf(u1))));
    const [sin, cos] = sincosf(f(TWO_PI_F * d[j + 8]));
    d[j] = fmaf(f(radius * cos), s, m);
    d[j + 8] = fmaf(f(radius * sin), s, m);
  }
}

/** Values as `torch.rand(n, dtype=dtype)` draws them. */
export function uniformValues(g: TorchGenerator, n: number, dtype: RandomFloat, from = 0, to = 1): number[] {
  return Array.from({ length: n }, () => g.uniform(from, to, dtype));
}

/** `torch.randint(low, high, (n,))`. */
export function integerValues(g: TorchGenerator, n: number, low: number, high: number): number[] {
  if (!(high > low)) throw new Error(`randint: high (${high}) must be greater than low (${low})`);
  return Array.from({ length: n }, () => g.integer(low, high));
}

/** `torch.randperm(n)` on the CPU: the identity, then a swap per position with a later one (Fisher-Yates). */
export function permutation(g: TorchGenerator, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = g.random() % (n - i);
    const t = p[i];
    p[i] = p[z + i];
    p[z + i] = t;
  }
  return p;
}

/**
 * The bound `nn.Linear(in_features, out)` draws its weight from, `kaiming_uniform_(a=sqrt(5))`, computed with
 * the float64 operations torch.nn.init performs; the bias bound is 1/sqrt(in_features).
 */
export function linearBounds(inFeatures: number): { weight: number; bias: number } {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2.0 / (1 + a * a));
  const std = gain / Math.sqrt(inFeatures);
  return { weight: Math.sqrt(3.0) * std, bias: inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0 };
}

/** `torch.manual_seed(seed); nn.Linear(i, o)`: the weight's values (row-major, [o, i]), then the bias's. */
export function linearInit(
  seed: number,
  inFeatures: number,
  outFeatures: number,
  dtype: RandomFloat = "float32",
): { weight: number[]; bias: number[] } {
  const g = new TorchGenerator(seed);
  const b = linearBounds(inFeatures);
  const weight = uniformValues(g, outFeatures * inFeatures, dtype, -b.weight, b.weight);
  const bias = uniformValues(g, outFeatures, dtype, -b.bias, b.bias);
  return { weight, bias };
}
