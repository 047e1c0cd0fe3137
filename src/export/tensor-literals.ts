/**
 * Tensor values as Python source: nested lists of the shortest numbers that give back the same values in the
 * tensor's dtype, or, for large tensors, the base64 of their little-endian bytes.
 */
import { type DType, isFloating, roundHalf, type Tensor } from "../runtime/index.ts";

/** Lines longer than this are wrapped, as a formatter like black would. */
const WIDTH = 100;

/** The shortest decimal that PyTorch turns back into exactly `v` when it stores it as `dtype`. */
export function shortestFloat(v: number, dtype: DType): string {
  if (Number.isNaN(v)) return "math.nan";
  if (!Number.isFinite(v)) return v > 0 ? "math.inf" : "-math.inf";
  if (Object.is(v, -0)) return "-0.0";
  let s = String(v);
  if (dtype === "float32" || dtype === "float16") {
    // Python parses the literal to a double, then torch rounds it once to the dtype (float16 perhaps via
    // float32), so a candidate must come back to v either way.
    const exact = (d: number) =>
      dtype === "float32" ? Math.fround(d) === v : roundHalf(d) === v && roundHalf(Math.fround(d)) === v;
    for (let p = 1; p <= 17; p++) {
      const d = Number(v.toPrecision(p));
      if (exact(d)) {
        s = String(d);
        break;
      }
    }
  }
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function pyElement(v: number, dtype: DType): string {
  if (dtype === "bool") return v ? "True" : "False";
  return isFloating(dtype) ? shortestFloat(v, dtype) : String(v);
}

/** Nested lists for `shape`, wrapped over several lines (with `indent`) when one line would be too long. */
export function nestedList(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  indent = "",
): string {
  const items = Array.from(values, (v) => pyElement(v, dtype));
  if (shape.length === 0) return items[0];
  return nest(items, shape, indent);
}

function nest(items: string[], shape: readonly number[], indent: string): string {
  const inner = `${indent}    `;
  if (shape.length === 1) {
    const flat = `[${items.join(", ")}]`;
    if (indent.length + flat.length <= WIDTH) return flat;
    const lines: string[] = [];
    let line = "";
    for (const item of items) {
      const next = line === "" ? item : `${line} ${item}`;
      if (inner.length + next.length + 1 > WIDTH && line !== "") {
        lines.push(`${inner}${line}`);
        line = item;
      } else line = next;
      line += ",";
    }
    lines.push(`${inner}${line}`);
    return `[\n${lines.join("\n")}\n${indent}]`;
  }
  const size = items.length / Math.max(1, shape[0]);
  const rows = Array.from({ length: shape[0] }, (_, i) =>
    nest(items.slice(i * size, (i + 1) * size), shape.slice(1), inner),
  );
  const flat = `[${rows.join(", ")}]`;
  if (!flat.includes("\n") && indent.length + flat.length <= WIDTH) return flat;
  return `[\n${rows.map((r) => `${inner}${r},`).join("\n")}\n${indent}]`;
}

/** The tensor's bytes as torch.frombuffer reads them on a little-endian machine. */
export function tensorBytes(t: Tensor): Uint8Array {
  const n = t.numel;
  switch (t.dtype) {
    case "float64":
      return new Uint8Array(Float64Array.from(t.data).buffer);
    case "float32":
      return new Uint8Array(Float32Array.from(t.data).buffer);
    case "float16":
      return new Uint8Array(Uint16Array.from(t.data, halfBits).buffer);
    case "int64":
      return new Uint8Array(BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(t.data).buffer);
    case "bool":
      return Uint8Array.from({ length: n }, (_, i) => (t.data[i] ? 1 : 0));
  }
}

/** IEEE half bits of a value that is exactly a float16 (the runtime stores halves rounded in a Float32Array). */
export function halfBits(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(roundHalf(v));
  if (Number.isNaN(a)) return 0x7e00;
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 with padding (what Python's base64.b64decode reads). */
export function base64(bytes: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (a << 16) | (b << 8) | c;
    out.push(
      ALPHABET[(n >> 18) & 63],
      ALPHABET[(n >> 12) & 63],
      i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=",
      i + 2 < bytes.length ? ALPHABET[n & 63] : "=",
    );
  }
  return out.join("");
}
