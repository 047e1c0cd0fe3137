/** Param values: defaults, typed reading, and the zod schema each declaration stands for. */
import { z } from "zod";
import type { NodeKind, ParamDecl, ParamReader, ParamValue, ParamValues } from "./types.ts";

/** Why a number is not one: JSON's 1e400 parses as Infinity, which no param or tensor literal takes. */
function notFinite(x: unknown): string | undefined {
  return typeof x === "number" && !Number.isFinite(x)
    ? `a number beyond float64's range (${x > 0 ? "" : "-"}1e400 and the like read as infinity); write a finite number`
    : undefined;
}

/** What is wrong with tensor data, where: the first element that is not a number or true/false. */
export function badData(v: unknown, at = "data"): string | undefined {
  const stack: [unknown, string][] = [[v, at]];
  while (stack.length) {
    const [x, path] = stack.pop()!;
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push([x[i], `${path}[${i}]`]);
      continue;
    }
    if (typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x))) continue;
    const what =
      typeof x === "number"
        ? `is ${notFinite(x)}`
        : `is ${x === null ? "null" : typeof x === "string" ? `a string (${JSON.stringify(x).slice(0, 40)})` : `${typeof x === "object" ? "an object" : `a ${typeof x}`}`}; tensor data holds numbers and true/false, in nested lists`;
    return `${path} ${what}`;
  }
  return undefined;
}

/** Nested arrays of numbers or booleans, as torch.tensor takes them. */
export const nestedData: z.ZodType<ParamValue> = z.lazy(() =>
  z.union([z.number(), z.boolean(), z.array(nestedData)], { error: (issue) => badData(issue.input) }),
);

/** A number, with a message for JSON's 1e400 (Infinity) rather than zod's. */
const number = () => z.number({ error: (issue) => notFinite(issue.input) });

const fmt = (v: number) => String(v);

function numberSchema(d: Extract<ParamDecl, { type: "number" }>): z.ZodType {
  let s = d.integer ? number().int() : number();
  if (d.min !== undefined)
    s = d.exclusiveMin
      ? s.gt(d.min, { error: `must be > ${fmt(d.min)}` })
      : s.gte(d.min, { error: `must be ≥ ${fmt(d.min)}` });
  if (d.max !== undefined) s = s.lte(d.max, { error: `must be ≤ ${fmt(d.max)}` });
  return s;
}

/** The zod schema of one param's value. */
export function paramSchema(d: ParamDecl): z.ZodType {
  let s: z.ZodType;
  switch (d.type) {
    case "number":
      s = numberSchema(d);
      break;
    case "boolean":
      s = z.boolean();
      break;
    case "enum":
      s = z.enum(d.options as [string, ...string[]]);
      break;
    case "string":
      s = z.string().max(d.maxLength ?? 10_000);
      break;
    case "numbers": {
      let item = d.integer ? number().int() : number();
      if (d.min !== undefined) item = item.gte(d.min, { error: `must be ≥ ${d.min}` });
      if (d.max !== undefined) item = item.lte(d.max, { error: `must be ≤ ${d.max}` });
      const arr = z.array(item);
      s = d.length !== undefined ? arr.length(d.length) : arr.max(64);
      break;
    }
    case "dims":
      s = z.union([z.number().int(), z.array(z.number().int()).max(64)]);
      break;
    case "data":
      s = nestedData;
      break;
  }
  s = s.describe(d.help);
  return d.nullable || d.default === null ? s.nullable() : s;
}

const paramsSchemas = new WeakMap<NodeKind, z.ZodObject>();

/**
 * The zod schema of a node's params object: known names only, each optional (defaults fill the rest). Built
 * once per kind: building one costs far more than checking a node with it, and a graph has thousands of nodes.
 */
export function paramsSchema(kind: NodeKind): z.ZodObject {
  let schema = paramsSchemas.get(kind);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const d of kind.params) shape[d.name] = paramSchema(d).optional();
    schema = z.strictObject(shape);
    paramsSchemas.set(kind, schema);
  }
  return schema;
}

export function defaultParams(kind: NodeKind): ParamValues {
  const out: ParamValues = {};
  for (const d of kind.params) out[d.name] = structuredClone(d.default);
  return out;
}

class Reader implements ParamReader {
  constructor(
    private readonly kind: NodeKind,
    private readonly values: ParamValues,
  ) {}
  raw(name: string): ParamValue {
    if (Object.hasOwn(this.values, name)) return this.values[name];
    const d = this.kind.params.find((p) => p.name === name);
    if (!d) throw new Error(`${this.kind.type} has no param '${name}'`);
    return d.default;
  }
  private typed<T>(name: string, ok: (v: ParamValue) => boolean, what: string): T {
    const v = this.raw(name);
    if (!ok(v))
      throw new TypeError(`param '${name}' of ${this.kind.type} must be ${what}, got ${JSON.stringify(v)}`);
    return v as T;
  }
  num(name: string): number {
    return this.typed(name, (v) => typeof v === "number", "a number");
  }
  numOrNull(name: string): number | null {
    return this.typed(name, (v) => v === null || typeof v === "number", "a number or null");
  }
  bool(name: string): boolean {
    return this.typed(name, (v) => typeof v === "boolean", "true or false");
  }
  str(name: string): string {
    return this.typed(name, (v) => typeof v === "string", "a string");
  }
  strOrNull(name: string): string | null {
    return this.typed(name, (v) => v === null || typeof v === "string", "a string or null");
  }
  nums(name: string): number[] {
    return this.typed(name, isNumberList, "a list of numbers");
  }
  numsOrNull(name: string): number[] | null {
    return this.typed(name, (v) => v === null || isNumberList(v), "a list of numbers or null");
  }
  dims(name: string): number | number[] | null {
    return this.typed(
      name,
      (v) => v === null || typeof v === "number" || isNumberList(v),
      "an int, a list of ints or null",
    );
  }
}

function isNumberList(v: ParamValue): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

export function readParams(kind: NodeKind, values: ParamValues = {}): ParamReader {
  return new Reader(kind, values);
}
