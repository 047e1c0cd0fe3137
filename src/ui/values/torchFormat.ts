/**
 * Tensor values printed exactly as PyTorch 1.13's `str(tensor)` prints them (torch/_tensor_str.py: the
 * _Formatter's int/fixed/scientific modes, precision 4, linewidth 80, summarising past 1000 elements with 3 edge
 * items), so every number the editor shows is the number a PyTorch user sees.
 */
import { EDGE_ITEMS, type TensorStats } from "../../engine/worker-protocol.ts";
import { type DType, stridesOf } from "../../runtime/index.ts";

export interface ValueLike {
  shape: readonly number[];
  dtype: DType;
  data: ArrayLike<number>;
  /**
   * True when `data` holds only the corners PyTorch prints of a large tensor (each dimension longer than
   * 2 × EDGE_ITEMS cut to its first and last EDGE_ITEMS), as the scheduler worker sends it.
   */
  truncated?: boolean;
  /** Stats of the whole tensor, where `data` does not hold it all. */
  stats?: TensorStats;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Where element `i` of a dimension of length `n` sits in `data`, and the strides to walk it: the tensor's own,
 * or those of its corners when only they were sent.
 */
function layoutOf(v: ValueLike): { strides: number[]; at: (n: number, i: number) => number } {
  if (!v.truncated) return { strides: stridesOf(v.shape), at: (_n, i) => i };
  const kept = v.shape.map((n) => Math.min(n, 2 * EDGE_ITEMS));
  return {
    strides: stridesOf(kept),
    at: (n, i) => (n > 2 * EDGE_ITEMS && i >= EDGE_ITEMS ? i - (n - 2 * EDGE_ITEMS) : i),
  };
}

export interface PrintOptions {
  precision: number;
  threshold: number;
  edgeitems: number;
  linewidth: number;
}

export const TORCH_PRINT: PrintOptions = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 };

const isFloat = (d: DType) => d === "float16" || d === "float32" || d === "float64";

/**
 * JavaScript rounds exact ties away from zero where Python rounds them to even. A tie can only happen when the
 * value is a short dyadic fraction, so the digit after the cut is checked exactly with BigInt.
 */
function isTie(digits: string, scaleDigits: number): boolean {
  // digits: the value's decimal expansion to one more digit than kept, as an integer string, scaled by 10^scaleDigits.
  if (!digits.endsWith("5")) return false;
  const d = BigInt(digits);
  if (scaleDigits <= 0) return true;
  return d % 5n ** BigInt(scaleDigits) === 0n;
}

/** Python's '{:.Nf}'.format(x). */
export function pyFixed(x: number, decimals: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Math.abs(x) >= 1e21)
    return BigInt(Math.round(x)).toString() + (decimals > 0 ? `.${"0".repeat(decimals)}` : "");
  let s = x.toFixed(decimals);
  const longer = Math.abs(x).toFixed(decimals + 1);
  const longerDigits = longer.replace(".", "");
  // A tie (exactly ...5 at the next digit, with the value dyadic) was rounded away from zero; Python keeps even.
  if (Number(longer) === Math.abs(x) && isTie(longerDigits, decimals + 1)) {
    const kept = longerDigits.slice(0, -1);
    const lastKept = Number(kept[kept.length - 1]);
    if (lastKept % 2 === 0) {
      const intPart = kept.slice(0, kept.length - decimals) || "0";
      const frac = kept.slice(kept.length - decimals);
      s = (x < 0 ? "-" : "") + String(BigInt(intPart)) + (decimals > 0 ? `.${frac}` : "");
    }
  }
  // Python keeps the sign of negative zero and of values that round to zero.
  if (x < 0 && !s.startsWith("-")) s = `-${s}`;
  if (Object.is(x, -0)) s = `-${(0).toFixed(decimals)}`;
  return s;
}

/** Python's '{:.Ne}'.format(x): mantissa with N decimals, exponent with sign and at least two digits. */
export function pyExp(x: number, decimals: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let [mant, exp] = a.toExponential(decimals).split("e");
  const [lm, le] = a.toExponential(decimals + 1).split("e");
  const ldigits = lm.replace(".", "");
  const scale = decimals + 1 - Number(le);
  if (Number(`${lm}e${le}`) === a && isTie(ldigits, scale)) {
    const kept = ldigits.slice(0, -1);
    if (Number(kept[kept.length - 1]) % 2 === 0) {
      mant = decimals > 0 ? `${kept[0]}.${kept.slice(1)}` : kept[0];
      exp = le;
    }
  }
  const e = Number(exp);
  const es = `${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return `${neg ? "-" : ""}${mant}e${es}`;
}

/** Python's '{}'.format(int or bool). */
function pyPlain(x: number, dtype: DType): string {
  if (dtype === "bool") return x ? "True" : "False";
  return String(x);
}

/** The values that decide the format: all of them, or the summarised corners when the tensor is large. */
function summarisedFlat(v: ValueLike, summarize: boolean, edge: number): number[] {
  if (!summarize || v.truncated) return Array.from(v.data);
  const out: number[] = [];
  const strides = stridesOf(v.shape);
  const walk = (dim: number, offset: number) => {
    if (dim === v.shape.length) {
      out.push(v.data[offset]);
      return;
    }
    const n = v.shape[dim];
    const idx = n > 2 * edge ? [...range(0, edge), ...range(n - edge, n)] : range(0, n);
    for (const i of idx) walk(dim + 1, offset + i * strides[dim]);
  };
  walk(0, 0);
  return out;
}

function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i < b; i++) r.push(i);
  return r;
}

/** torch's _Formatter: picks int, fixed or scientific mode and the column width from the values. */
export class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;
  private readonly floating: boolean;

  constructor(
    values: readonly number[],
    private readonly dtype: DType,
    private readonly precision = TORCH_PRINT.precision,
  ) {
    this.floating = isFloat(dtype);
    if (!this.floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, pyPlain(v, dtype).length);
      return;
    }
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) return;
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
    }
    this.intMode = finite.every((v) => v === Math.ceil(v));
    const wide = max / min > 1000 || max > 1e8;
    if (this.intMode) {
      if (wide) {
        this.sciMode = true;
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, pyExp(v, precision).length);
      } else {
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, pyFixed(v, 0).length + 1);
      }
    } else if (wide || min < 1e-4) {
      this.sciMode = true;
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, pyExp(v, precision).length);
    } else {
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, pyFixed(v, precision).length);
    }
  }

  width(): number {
    return this.maxWidth;
  }

  /** One value, unpadded. */
  raw(v: number): string {
    if (!this.floating) return pyPlain(v, this.dtype);
    if (this.sciMode) return pyExp(v, this.precision);
    if (this.intMode) {
      const s = pyFixed(v, 0);
      return Number.isFinite(v) ? `${s}.` : s;
    }
    return pyFixed(v, this.precision);
  }

  format(v: number): string {
    return this.raw(v).padStart(this.maxWidth, " ");
  }
}

/** The inside of `tensor(...)`: the values with PyTorch's brackets, padding and line breaks. */
export function tensorBody(v: ValueLike, indent: number, opts: PrintOptions = TORCH_PRINT): string {
  const n = numelOf(v.shape);
  if (n === 0) return "[]";
  // Only the corners of a truncated tensor are here: it is printed summarised, with PyTorch's edge items.
  const summarize = n > opts.threshold || !!v.truncated;
  const edge = v.truncated ? EDGE_ITEMS : opts.edgeitems;
  const fmt = new Formatter(summarisedFlat(v, summarize, edge), v.dtype, opts.precision);
  if (v.shape.length === 0) return fmt.format(v.data[0]);
  const { strides, at } = layoutOf(v);
  const vector = (offset: number, len: number, ind: number): string => {
    const elementLength = fmt.width() + 2;
    const perLine = Math.max(1, Math.floor((opts.linewidth - ind) / elementLength));
    let data: string[];
    if (summarize && len > 2 * edge) {
      data = [
        ...range(0, edge).map((i) => fmt.format(v.data[offset + at(len, i)])),
        " ...",
        ...range(len - edge, len).map((i) => fmt.format(v.data[offset + at(len, i)])),
      ];
    } else data = range(0, len).map((i) => fmt.format(v.data[offset + i]));
    const lines: string[] = [];
    for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(", "));
    return `[${lines.join(`,\n${" ".repeat(ind + 1)}`)}]`;
  };
  const walk = (dim: number, offset: number, ind: number): string => {
    const rank = v.shape.length - dim;
    const len = v.shape[dim];
    if (rank === 1) return vector(offset, len, ind);
    const child = (i: number) => walk(dim + 1, offset + at(len, i) * strides[dim], ind + 1);
    const slices =
      summarize && len > 2 * edge
        ? [...range(0, edge).map(child), "...", ...range(len - edge, len).map(child)]
        : range(0, len).map(child);
    return `[${slices.join(`,${"\n".repeat(rank - 1)}${" ".repeat(ind + 1)}`)}]`;
  };
  return walk(0, 0, indent);
}

export interface ReprOptions {
  requiresGrad?: boolean;
  /** torch prints `grad_fn=<MseLossBackward0>` for non-leaves; pass the name when known. */
  gradFn?: string;
}

/** `str(tensor)` as PyTorch prints it. */
export function torchRepr(v: ValueLike, ro: ReprOptions = {}, opts: PrintOptions = TORCH_PRINT): string {
  const prefix = "tensor(";
  const suffixes: string[] = [];
  const n = numelOf(v.shape);
  const body = tensorBody(v, prefix.length, opts);
  if (n === 0 && !(v.shape.length === 1 && v.shape[0] === 0)) suffixes.push(`size=(${v.shape.join(", ")})`);
  const defaultDtype = v.dtype === "float32" || v.dtype === "int64" || v.dtype === "bool";
  if (!defaultDtype) suffixes.push(`dtype=torch.${v.dtype}`);
  if (ro.gradFn) suffixes.push(`grad_fn=<${ro.gradFn}>`);
  else if (ro.requiresGrad) suffixes.push("requires_grad=True");
  // torch's _add_suffixes: a suffix that would pass the line width goes on its own line, under the values.
  let out = prefix + body;
  let lastLine = out.length - out.lastIndexOf("\n") + 1;
  for (const suffix of suffixes) {
    if (lastLine + suffix.length + 2 > opts.linewidth) {
      out += `,\n${" ".repeat(prefix.length)}${suffix}`;
      lastLine = prefix.length + suffix.length;
    } else {
      out += `, ${suffix}`;
      lastLine += suffix.length + 2;
    }
  }
  return `${out})`;
}

/** A single number as torch prints a 0-d tensor of that dtype (`0.2942`, `3.`, `1.2346e-05`). */
export function torchScalar(x: number, dtype: DType = "float32"): string {
  return new Formatter([x], dtype).raw(x);
}
