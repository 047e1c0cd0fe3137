/**
 * The numbers each example states, kept beside it in examples/checks/<example>.json, with the tutorial's own code
 * in examples/checks/<example>.py. A graph file allows no extra fields, so the expectations live in a sidecar
 * the editor does not load (it bundles examples/*.json only).
 *
 * A stated number is written as the tutorial prints it, as a string: "0.2942" means the value rounds to 0.2942,
 * that is it lies within half a unit of the last printed digit; "2.2774999141693115" pins a float32 value
 * printed in full; "6.6484e31" is checked to its mantissa's digits; a whole number without a point ("3", "-1")
 * must be exact; "inf", "-inf" and "nan" as they say.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLES_DIR = join(ROOT, "examples");
export const CHECKS_DIR = join(EXAMPLES_DIR, "checks");

/** One stated value: a printed number, or nested lists of them (compared flattened, row-major). */
export type Printed = string | Printed[];
/** A stated value with the dtype and shape it must have. */
export type Stated = Printed | { value: Printed; dtype?: string; shape?: number[] };

export interface TrainRecordCheck {
  epoch: number;
  /** The loss computed in that epoch, before its step. */
  loss?: Printed;
  /** Trained tensors after that epoch's step, by trainable id. */
  params?: Record<string, Printed>;
}

export interface Check {
  /**
   * The tutorial the numbers come from, by its file name in examples/README.md's table (absent for the examples
   * beyond the tutorials). Only a name: no test needs the tutorial itself.
   */
  source?: string;
  /** Why a check is the way it is, where that is not obvious (JSON has no comments). */
  notes?: string[];
  /** Validation warnings the example must show, exactly these (none when absent). */
  warnings?: { node: string; match: string }[];
  /** `gradwire eval FILE --json`: node outputs (id, or id.port for extra outputs) and objective gradients. */
  eval?: { nodes?: Record<string, Stated>; grads?: Record<string, Stated> };
  /** `gradwire train FILE --jsonl`, for `epochs` (the graph's settings when absent). */
  train?: {
    epochs?: number;
    records: TrainRecordCheck[];
    /** Training must stop with an error at this epoch, its message matching `match` (a regular expression). */
    stop?: { epoch: number; match: string };
  };
  /** Node outputs after a full training run of the graph's epochs (checked in-process with the Trainer). */
  afterTraining?: Record<string, Stated>;
  /** The tutorial's code (the .py beside this file) and what to read from it. */
  torch?: {
    /** Nodes whose gradwire values are handed to the code as tensors of the same name (gradwire's randn). */
    inputs?: string[];
    /** Python expressions per node id (or id.port), each compared with the stated value and with gradwire. */
    values?: Record<string, string | string[]>;
    grads?: Record<string, string>;
    /** Per-epoch lists: the loss before each step, and each trained tensor after it. */
    train?: { loss?: string; params?: Record<string, string> };
    afterTraining?: Record<string, string>;
    /** Looser gradwire-vs-PyTorch tolerances for some keys, each with its reason in the example's notes. */
    tolerances?: Record<string, Tolerance>;
    /** Python expressions that must be true. */
    asserts?: string[];
  };
}

export interface Example {
  /** The graph file's name, e.g. 03-l1-vector.json. */
  file: string;
  name: string;
  path: string;
  text: string;
  check: Check;
  /** The tutorial's code, when the check has a torch part. */
  python?: string;
}

/** EXAMPLES_ONLY=61-,63- runs the examples whose names start so (a development aid, as COMPLETENESS_ONLY). */
const ONLY = process.env.EXAMPLES_ONLY?.split(",");

export function loadExamples(): Example[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith(".json") && (!ONLY || ONLY.some((p) => f.startsWith(p))))
    .sort()
    .map((file) => {
      const name = file.replace(/\.json$/, "");
      const path = join(EXAMPLES_DIR, file);
      const check = JSON.parse(readFileSync(join(CHECKS_DIR, `${name}.json`), "utf8")) as Check;
      const python = check.torch ? readFileSync(join(CHECKS_DIR, `${name}.py`), "utf8") : undefined;
      return { file, name, path, text: readFileSync(path, "utf8"), check, python };
    });
}

export function statedValue(s: Stated): { value: Printed; dtype?: string; shape?: number[] } {
  return typeof s === "object" && !Array.isArray(s) ? s : { value: s };
}

export function flatPrinted(p: Printed): string[] {
  return Array.isArray(p) ? p.flatMap(flatPrinted) : [p];
}

const NUMBER = /^-?(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

/** Does `actual` print as `printed`? Half a unit of the last printed digit either way; whole numbers exactly. */
export function printsAs(actual: number, printed: string): boolean {
  if (printed === "nan") return Number.isNaN(actual);
  if (printed === "inf") return actual === Number.POSITIVE_INFINITY;
  if (printed === "-inf") return actual === Number.NEGATIVE_INFINITY;
  const m = NUMBER.exec(printed);
  if (!m) throw new Error(`'${printed}' is not a printed number`);
  const want = Number(printed);
  if (!Number.isFinite(actual)) return false;
  if (m[2] === undefined && m[3] === undefined) return actual === want;
  const half = 0.5 * 10 ** (Number(m[3] ?? 0) - (m[2]?.length ?? 0));
  // The slack covers the decimal string itself not being exactly representable.
  return Math.abs(actual - want) <= half * (1 + 1e-9);
}

/** The first element of `actual` that does not print as stated, described; null when all do. */
export function printedMismatch(actual: readonly number[], stated: Printed): string | null {
  const want = flatPrinted(stated);
  if (actual.length !== want.length)
    return `${actual.length} values [${actual.slice(0, 8).join(", ")}], stated ${want.length} [${want.join(", ")}]`;
  for (let i = 0; i < want.length; i++)
    if (!printsAs(actual[i], want[i]))
      return `${want.length > 1 ? `element ${i}: ` : ""}got ${actual[i]}, stated ${want[i]}`;
  return null;
}

/** JSON's stand-ins for non-finite numbers, from gradwire's CLI ("Infinity") and the torch runner ("inf"). */
export function num(v: number | string | boolean): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === "NaN" || v === "nan") return Number.NaN;
  if (v === "Infinity" || v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity" || v === "-inf") return Number.NEGATIVE_INFINITY;
  throw new Error(`not a number: ${v}`);
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** gradwire against PyTorch computing the same thing: the runtime's parity tolerances by dtype. */
export function toleranceOf(dtype: string | undefined | null): Tolerance {
  if (dtype === "float64") return { rtol: 1e-10, atol: 1e-12 };
  if (dtype === "float16") return { rtol: 1e-3, atol: 1e-5 };
  return { rtol: 1e-5, atol: 1e-6 };
}

/** Trajectories over many optimizer steps compound float32 rounding differently in each library. */
export const TRAJECTORY: Tolerance = { rtol: 1e-4, atol: 1e-6 };

export function closeMismatch(
  actual: readonly number[],
  expected: readonly number[],
  tol: Tolerance,
): string | null {
  if (actual.length !== expected.length) return `${actual.length} values, PyTorch ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e)))
      return `element ${i}: gradwire ${a}, PyTorch ${e} (diff ${Math.abs(a - e).toExponential(2)})`;
  }
  return null;
}
