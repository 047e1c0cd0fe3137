/** Output formats: JSON numbers for tensors, short human summaries, and a progress bar for terminals. */
import type { Tensor } from "../runtime/index.ts";
import type { Out } from "./io.ts";

/** A number JSON can carry: NaN and infinities become the strings "NaN", "Infinity", "-Infinity". */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

/** Values written per piece of streamed JSON: a piece stays well under a megabyte of text. */
export const JSON_CHUNK = 16_384;

/**
 * A JSON array of values written piece by piece, never as one string: a tensor of tens of millions of elements
 * would pass the longest string JavaScript can hold. Bool tensors as true/false, as tolist() gives them.
 */
export function writeJsonArray(out: Out, values: ArrayLike<number>, bool = false): void {
  out.write("[");
  for (let i = 0; i < values.length; i += JSON_CHUNK) {
    const end = Math.min(values.length, i + JSON_CHUNK);
    const parts: string[] = [];
    for (let j = i; j < end; j++) {
      const v = values[j];
      parts.push(bool ? String(v !== 0) : JSON.stringify(jsonNumber(v)));
    }
    out.write(i === 0 ? parts.join(",") : `,${parts.join(",")}`);
  }
  out.write("]");
}

/**
 * A JSON object written entry by entry: `{"key":<entry>,...}` where `entry` writes each value itself. A failure
 * names the key (the node) it happened at.
 */
export function writeJsonObject<T>(out: Out, entries: Iterable<[string, T]>, entry: (v: T) => void): void {
  out.write("{");
  let first = true;
  for (const [k, v] of entries) {
    out.write(`${first ? "" : ","}${JSON.stringify(k)}:`);
    first = false;
    try {
      entry(v);
    } catch (e) {
      throw new Error(`cannot write the value of '${k}': ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  out.write("}");
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
  // Only the values shown are read and formatted: a preview of a 1e8-element tensor costs what 8 values cost.
  const data = t.data;
  const fmt = (i: number) => (t.dtype === "bool" ? (data[i] ? "True" : "False") : fmtNum(data[i]));
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => fmt(from + k));
  if (t.ndim === 0) return fmt(0);
  if (t.ndim === 2 && t.numel <= max * 2 && t.shape[0] <= 4) {
    const cols = t.shape[1];
    return `[${Array.from({ length: t.shape[0] }, (_, r) => `[${range(r * cols, (r + 1) * cols).join(", ")}]`).join(", ")}]`;
  }
  if (t.numel <= max) return `[${range(0, t.numel).join(", ")}]`;
  return `[${range(0, max - 1).join(", ")}, ... ${fmt(t.numel - 1)}] (${t.numel} values)`;
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
