// The torch.nn.functional activations declared as unary ops (ops/elementwise.ts), with every argument and the
// edge points (0, the kinks, large |x|): one list that the CPU and WebGPU parity tests both run.
import { ops as O, type Tensor } from "../../src/runtime/index.ts";

export interface ActivationCase {
  /** The declared op. */
  op: string;
  name: string;
  /** torch's function. */
  fn: string;
  /** The input's values (a 1-d tensor). */
  values: number[];
  /** torch's keyword arguments, which are the op's attributes. */
  kwargs?: Record<string, number | string>;
  /** The attributes gradwire's op needs besides the keywords: the defaults torch fills in. */
  defaults?: Record<string, number>;
}

const SPREAD = [-30, -6, -2.5, -1, -0.3, -1e-4, 0, 1e-4, 0.3, 1, 2.5, 6, 30];
const KINKS = [-7, -6, -3, -1.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1.5, 3, 6, 7];

export const ACTIVATION_CASES: ActivationCase[] = [
  { op: "elu", name: "elu", fn: "F.elu", values: SPREAD, defaults: { alpha: 1 } },
  { op: "elu", name: "elu alpha 0.4", fn: "F.elu", values: SPREAD, kwargs: { alpha: 0.4 } },
  { op: "selu", name: "selu", fn: "F.selu", values: SPREAD },
  { op: "celu", name: "celu", fn: "F.celu", values: SPREAD, defaults: { alpha: 1 } },
  { op: "celu", name: "celu alpha 0.7", fn: "F.celu", values: SPREAD, kwargs: { alpha: 0.7 } },
  { op: "silu", name: "silu", fn: "F.silu", values: [...SPREAD, -800, 800] },
  { op: "mish", name: "mish", fn: "F.mish", values: [...SPREAD, -800, 800] },
  {
    op: "hardtanh",
    name: "hardtanh",
    fn: "F.hardtanh",
    values: KINKS,
    defaults: { min_val: -1, max_val: 1 },
  },
  {
    op: "hardtanh",
    name: "hardtanh min_val -0.5 max_val 3",
    fn: "F.hardtanh",
    values: KINKS,
    kwargs: { min_val: -0.5, max_val: 3 },
  },
  { op: "relu6", name: "relu6", fn: "F.relu6", values: KINKS },
  { op: "hardsigmoid", name: "hardsigmoid", fn: "F.hardsigmoid", values: KINKS },
  { op: "hardswish", name: "hardswish", fn: "F.hardswish", values: KINKS },
  { op: "softsign", name: "softsign", fn: "F.softsign", values: [...SPREAD, -1e6, 1e6] },
  { op: "tanhshrink", name: "tanhshrink", fn: "F.tanhshrink", values: SPREAD },
  { op: "hardshrink", name: "hardshrink", fn: "F.hardshrink", values: KINKS, defaults: { lambd: 0.5 } },
  {
    op: "hardshrink",
    name: "hardshrink lambd 1.5",
    fn: "F.hardshrink",
    values: KINKS,
    kwargs: { lambd: 1.5 },
  },
  { op: "softshrink", name: "softshrink", fn: "F.softshrink", values: KINKS, defaults: { lambd: 0.5 } },
  {
    op: "softshrink",
    name: "softshrink lambd 1.5",
    fn: "F.softshrink",
    values: KINKS,
    kwargs: { lambd: 1.5 },
  },
  {
    op: "gelu",
    name: "gelu tanh, tails and 0",
    fn: "F.gelu",
    values: [-30, -8, -3, -1e-4, 0, 1e-4, 3, 8, 30],
    kwargs: { approximate: "tanh" },
  },
];

/** gradwire's side of a case. */
export function runActivation(c: ActivationCase, x: Tensor): Tensor {
  return O.unaryOp(c.op, x, { ...c.defaults, ...c.kwargs });
}
