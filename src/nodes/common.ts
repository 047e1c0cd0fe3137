/** Param and port declarations several families share, so each reads the same everywhere. */
import { DTYPES, type DType, isFloating, REDUCTIONS, type Tensor } from "../runtime/index.ts";
import { pyDType } from "./python.ts";
import type { ParamDecl, ParamReader, PortDecl } from "./types.ts";

export const FLOAT_DTYPES: readonly DType[] = DTYPES.filter(isFloating);

export function dtypeParam(def: DType | null, opts: { floatOnly?: boolean; help?: string } = {}): ParamDecl {
  return {
    name: "dtype",
    type: "enum",
    options: opts.floatOnly ? FLOAT_DTYPES : DTYPES,
    default: def,
    nullable: def === null,
    help:
      opts.help ??
      (def === null
        ? "element type; None infers it from the values, as torch does"
        : "element type of the result"),
  };
}

export const requiresGradParam = (def = false): ParamDecl => ({
  name: "requires_grad",
  type: "boolean",
  default: def,
  help: "track gradients for this tensor; optimizers downstream train it",
});

export const sizeParam = (def: number[] = [3]): ParamDecl => ({
  name: "size",
  type: "numbers",
  integer: true,
  min: 0,
  default: def,
  help: "the shape, e.g. [10, 5]",
});

export const reductionParam = (options: readonly string[] = REDUCTIONS): ParamDecl => ({
  name: "reduction",
  type: "enum",
  options,
  default: "mean",
  help: "'none': one loss per element; 'mean': their average; 'sum': their total",
});

export const inputPort = (help = "the input tensor", dtype: PortDecl["dtype"] = "any"): PortDecl => ({
  name: "input",
  dtype,
  help,
});

export const dimParam = (def: number | null, help = "the dimension to reduce"): ParamDecl => ({
  name: "dim",
  type: "number",
  integer: true,
  default: def,
  nullable: def === null,
  help,
});

export const keepdimParam: ParamDecl = {
  name: "keepdim",
  type: "boolean",
  default: false,
  help: "keep reduced dimensions with size 1",
};

/** Give a freshly created leaf its name and requires_grad from params. */
export function asLeaf(t: Tensor, p: ParamReader, label: string): Tensor {
  t.name = label;
  if (p.bool("requires_grad")) t.requiresGrad_(true);
  return t;
}

/** `, dtype=torch.float64` when the dtype is given (and not torch's default for the call). */
export function dtypeKwarg(d: DType | null, torchDefault: DType | null = "float32"): string {
  return d === null || d === torchDefault ? "" : `, dtype=${pyDType(d)}`;
}

export function requiresGradKwarg(p: ParamReader): string {
  return p.bool("requires_grad") ? ", requires_grad=True" : "";
}
