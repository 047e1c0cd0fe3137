/**
 * A node as a layer of an exported nn.Sequential: a module node's own nn module (its kind's `torchModule`), or
 * the nn counterpart of a functional kind with the same arguments (`relu` → `nn.ReLU()`, `flatten` →
 * `nn.Flatten(0, -1)`), which calls that function (nn.ReLU's forward is F.relu), so the numbers stay the same.
 */
import { pyKwargs, pyTuple } from "../nodes/python.ts";
import type { NodeKind, ParamReader, TorchContext } from "../nodes/types.ts";

/** nn classes whose constructor takes the functional kind's params as keyword arguments, by kind. */
const SAME_ARGS: Record<string, string> = {
  relu: "ReLU",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
  leaky_relu: "LeakyReLU",
  gelu: "GELU",
  softplus: "Softplus",
  logsigmoid: "LogSigmoid",
  elu: "ELU",
  selu: "SELU",
  celu: "CELU",
  silu: "SiLU",
  mish: "Mish",
  hardtanh: "Hardtanh",
  relu6: "ReLU6",
  hardsigmoid: "Hardsigmoid",
  hardswish: "Hardswish",
  softsign: "Softsign",
  tanhshrink: "Tanhshrink",
  hardshrink: "Hardshrink",
  softshrink: "Softshrink",
};

/**
 * nn counterparts whose arguments are written out in full: nn.Softmax's dim has no usable default, and
 * nn.Flatten's defaults (1, -1) are not torch.flatten's (0, -1).
 */
const WRITTEN: Record<string, (p: ParamReader) => string> = {
  softmax: (p) => `nn.Softmax(dim=${p.num("dim")})`,
  log_softmax: (p) => `nn.LogSoftmax(dim=${p.num("dim")})`,
  flatten: (p) => `nn.Flatten(${p.num("start_dim")}, ${p.num("end_dim")})`,
  unflatten: (p) => `nn.Unflatten(${p.num("dim")}, ${pyTuple(p.nums("sizes"))})`,
};

export interface NnLayer {
  /** `nn.Linear(2, 16)`, `nn.ReLU()`. */
  layer: string;
  /** torch.manual_seed(seed) goes before the constructor (it draws the initial values). */
  seed?: number;
}

/**
 * The nn layer node `c.nodeId` of `kind` stands for, called on its one input; undefined when it has none (a
 * kind with no nn counterpart, or one taking more than the one input).
 */
export function nnLayer(kind: NodeKind, c: TorchContext): NnLayer | undefined {
  if (kind.torchModule) return kind.torchModule(c);
  if (Object.keys(c.inputs).length !== 1 || c.inputs.input === undefined) return undefined;
  const written = WRITTEN[kind.type];
  if (written) return { layer: written(c.params) };
  const cls = SAME_ARGS[kind.type];
  if (!cls) return undefined;
  const kw = pyKwargs(kind.params.map((d) => [d.name, c.params.raw(d.name) as never, d.default]));
  return { layer: `nn.${cls}(${kw})` };
}
