/** Output formats: JSON numbers for tensors, short human summaries, and a progress bar for terminals. */
import type { Tensor } from "../runtime/index.ts";

/** A number JSON can carry: NaN and infinities become the strings "NaN", "Infinity", "-Infinity". */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

/** Flat row-major data; bool tensors as true/false, as tolist() gives them. */
export function flatData(t: Tensor): (number | string | boolean)[] {
  return t.dtype === "bool" ? Array.from(t.data, (v) => v !== 0) : Array.from(t.data, jsonNumber);
}

/** A number the way a person reads it: up to 6 significant digits. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const s = x.toPrecision(6);
  return s.includes("e") ? s.replace(/\.?0+e/, "e") : s.replace(/\.?0+$/, "");
}

/** `[0.4, 1.2, 2.5, ... 11.5]`: at most `max` values, nested as the shape says for small 2-d tensors. */
export function preview(t: Tensor, max = 8): string {
  const vals =
    t.dtype === "bool" ? Array.from(t.data, (v) => (v ? "True" : "False")) : Array.from(t.data, fmtNum);
  if (t.ndim === 0) return vals[0];
  if (t.ndim === 2 && t.numel <= max * 2 && t.shape[0] <= 4) {
    const cols = t.shape[1];
    return `[${Array.from({ length: t.shape[0] }, (_, r) => `[${vals.slice(r * cols, (r + 1) * cols).join(", ")}]`).join(", ")}]`;
  }
  if (vals.length <= max) return `[${vals.join(", ")}]`;
  return `[${vals.slice(0, max - 1).join(", ")}, ... ${vals[vals.length - 1]}] (${t.numel} values)`;
}

export function describeTensor(t: Tensor): string {
  return `${t.dtype}[${t.shape.join(", ")}]`;
}

/** One line of progress: `[#########.........]  45/100  loss 0.5312  (2,345 epochs/s)`. */
export function progressLine(done: number, total: number, loss: number, rate: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const pad = String(total).length;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(done).padStart(pad)}/${total}  loss ${fmtNum(loss)}${rate > 0 ? `  (${Math.round(rate).toLocaleString("en")} epochs/s)` : ""}`;
}
