/** Python literals for the PyTorch code node kinds declare. */
import type { DType } from "../runtime/index.ts";
import type { ParamValue } from "./types.ts";

/** A number as Python writes it: ints stay ints, floats keep enough digits to round-trip, inf/nan spelled out. */
export function pyNum(v: number): string {
  if (Number.isNaN(v)) return 'float("nan")';
  if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : '-float("inf")';
  return String(v);
}

/** A float literal (always with a point or exponent), for arguments torch expects as float. */
export function pyFloat(v: number): string {
  const s = pyNum(v);
  return /[.eE(]/.test(s) ? s : `${s}.0`;
}

export function pyStr(s: string): string {
  return JSON.stringify(s);
}

export function pyValue(v: ParamValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return pyNum(v);
  if (typeof v === "string") return pyStr(v);
  return `[${v.map(pyValue).join(", ")}]`;
}

/** A tuple, as torch prints betas and dims. */
export function pyTuple(vs: readonly number[]): string {
  return vs.length === 1 ? `(${pyNum(vs[0])},)` : `(${vs.map(pyNum).join(", ")})`;
}

export function pyDType(d: DType): string {
  return `torch.${d}`;
}

/** `name=value` keyword arguments, leaving out those equal to torch's default. */
export function pyKwargs(pairs: [string, ParamValue, ParamValue?][]): string {
  return pairs
    .filter(([, v, def]) => def === undefined || JSON.stringify(v) !== JSON.stringify(def))
    .map(([k, v]) => `${k}=${isNumbers(v) ? pyTuple(v) : pyValue(v)}`)
    .join(", ");
}

// Sequences of numbers as keyword arguments (betas) read as tuples, as torch writes them.
const isNumbers = (v: ParamValue): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");

/** Join call arguments, skipping empty ones. */
export function pyArgs(...parts: string[]): string {
  return parts.filter((p) => p !== "").join(", ");
}

/**
 * gradwire's linspace in PyTorch: computed in float64 from both ends, then rounded once to the dtype, so a script
 * gets exactly gradwire's values. (torch.linspace rounds differently with the CPU's vector width and on CUDA.)
 */
export function linspaceHelper(name: string): string[] {
  return [
    `def ${name}(start, end, steps, dtype, device):`,
    '    """torch.linspace computed in float64 from both ends and rounded once to dtype, as gradwire does."""',
    "    i = torch.arange(steps, dtype=torch.float64, device=device)",
    "    step = (end - start) / (steps - 1) if steps > 1 else 0.0",
    "    return torch.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i)).to(dtype)",
  ];
}
