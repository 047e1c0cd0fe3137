// Data-movement ops on WebGPU (views read through strides, copies where needed, gathers with scatter-free
// gradients), alone and feeding arithmetic, against PyTorch and the CPU runtime.
import {
  applyFunction,
  type DType,
  type FunctionContext,
  ops as O,
  type Tensor,
} from "../../src/runtime/index.ts";
import { CaseList, Inputs } from "../helpers/torch.ts";
import { type CpuCase, describeGpuParity, describeGpuVsCpu, useDevice } from "./harness.ts";

const device = useDevice();
const I = new Inputs(99);
const dt: DType = "float32";
const x = (shape = [2, 3, 4]) => I.t(shape, dt);
const idx = (shape: number[], values: number[], dtype: DType = "int64") =>
  I.t(shape, dtype, { values, requiresGrad: false });

const lay = new CaseList();
lay.add("transpose 2-D", "torch.transpose", [x([2, 3]), 0, 1], (a) => O.transpose(a, 0, 1));
lay.add("transpose dims 0, 2", "torch.transpose", [x(), 0, 2], (a) => O.transpose(a, 0, 2));
lay.add("permute", "torch.permute", [x(), { tuple: [2, 0, 1] }], (a) => O.permute(a, [2, 0, 1]));
lay.add("reshape", "torch.reshape", [x(), { tuple: [4, 6] }], (a) => O.reshape(a, [4, 6]));
lay.add("reshape to 0-d", "torch.reshape", [x([1, 1]), { tuple: [] }], (a) => O.reshape(a, []));
lay.add("flatten", "torch.flatten", [x(), 1], (a) => O.flatten(a, 1));
lay.add("squeeze", "torch.squeeze", [x([2, 1, 3, 1])], (a) => O.squeeze(a));
lay.add("unsqueeze -1", "torch.unsqueeze", [x([2, 3]), -1], (a) => O.unsqueeze(a, -1));
lay.add("expand", "method.expand", [x([3, 1]), 2, 3, 4], (a) => O.expand(a, [2, 3, 4]));
lay.add("cat dim 0", "torch.cat", [{ list: [x([2, 3]), x([1, 3])] }, 0], (a, b) => O.cat([a, b], 0));
lay.add("cat dim -1", "torch.cat", [{ list: [x([2, 3]), x([2, 2]), x([2, 1])] }, -1], (a, b, c) =>
  O.cat([a, b, c], -1),
);
lay.add("stack dim 1", "torch.stack", [{ list: [x([2, 3]), x([2, 3])] }, 1], (a, b) => O.stack([a, b], 1));
lay.add("narrow", "torch.narrow", [x(), 2, 1, 2], (a) => O.narrow(a, 2, 1, 2));
lay.add("gather dim 1", "torch.gather", [x([3, 4]), 1, idx([3, 2], [0, 3, 1, 1, 2, 0])], (a, i) =>
  O.gather(a, 1, i),
);
lay.add("gather dim 0", "torch.gather", [x([3, 4]), 0, idx([2, 4], [0, 1, 2, 0, 2, 2, 1, 0])], (a, i) =>
  O.gather(a, 0, i),
);
lay.add(
  "gather repeated indices accumulate",
  "torch.gather",
  [x([2, 3]), 1, idx([2, 4], [1, 1, 1, 0, 2, 2, 0, 2])],
  (a, i) => O.gather(a, 1, i),
);
lay.add("gather smaller index than input", "torch.gather", [x([3, 4]), 1, idx([2, 1], [3, 0])], (a, i) =>
  O.gather(a, 1, i),
);
lay.add("index_select dim 0", "torch.index_select", [x([4, 3]), 0, idx([3], [3, 0, 3])], (a, i) =>
  O.indexSelect(a, 0, i),
);
lay.add("index_select dim 1", "torch.index_select", [x([2, 4, 3]), 1, idx([2], [1, 2])], (a, i) =>
  O.indexSelect(a, 1, i),
);
// im2col and col2im (convolution's window gather and its gradient): overlapping, padded, dilated, strided.
const tup = (...v: number[]) => ({ tuple: v });
lay.add("unfold, padding 1", "F.unfold", [x([2, 2, 4, 5]), 3], (a) => O.unfold(a, 3, { padding: 1 }), {
  kwargs: { padding: 1 },
});
lay.add(
  "unfold, tuple dilation, padding, stride",
  "F.unfold",
  [x([1, 2, 7, 6]), tup(2, 3)],
  (a) => O.unfold(a, [2, 3], { dilation: [2, 1], padding: [1, 2], stride: [2, 1] }),
  { kwargs: { dilation: tup(2, 1), padding: tup(1, 2), stride: tup(2, 1) } },
);
lay.add(
  "fold, overlapping windows",
  "F.fold",
  [x([2, 18, 20]), tup(4, 5), 3],
  (a) => O.fold(a, [4, 5], 3, { padding: 1 }),
  { kwargs: { padding: 1 } },
);
lay.add(
  "fold, tuple dilation, padding, stride",
  "F.fold",
  [x([1, 12, 32]), tup(7, 6), tup(2, 3)],
  (a) => O.fold(a, [7, 6], [2, 3], { dilation: [2, 1], padding: [1, 2], stride: [2, 1] }),
  { kwargs: { dilation: tup(2, 1), padding: tup(1, 2), stride: tup(2, 1) } },
);
lay.add(
  "fold, windows that do not overlap",
  "F.fold",
  [x([1, 8, 4]), tup(4, 4), 2],
  (a) => O.fold(a, [4, 4], 2, { stride: 2 }),
  { kwargs: { stride: 2 } },
);
lay.add(
  "conv2d: input and weight gradients through unfold",
  "F.conv2d",
  [x([2, 4, 5, 5]), x([6, 2, 3, 2]), x([6])],
  (a, w, b) => O.conv2d(a, w, b, { stride: [2, 1], padding: 1, groups: 2 }),
  { kwargs: { stride: tup(2, 1), padding: 1, groups: 2 } },
);
lay.add(
  "conv1d padding same, dilation",
  "F.conv1d",
  [x([2, 3, 7]), x([2, 3, 4])],
  (a, w) => O.conv1d(a, w, null, { padding: "same", dilation: 2 }),
  { kwargs: { padding: "same", dilation: 2 } },
);
describeGpuParity("layout ops on WebGPU match PyTorch and the CPU", lay, device);

// The same ops inside expressions, so views are read through strides by fused kernels (against the CPU).
const spec = (shape: number[]) => x(shape).tensor;
const ispec = (shape: number[], values: number[]) => idx(shape, values).tensor;
const mix: CpuCase[] = [
  {
    name: "transposes feeding a product and a sum",
    inputs: [spec([3, 4]), spec([3, 4])],
    impl: (a, b) => O.sum(O.mul(O.transpose(a, 0, 1), O.transpose(b, 0, 1)), 0),
  },
  {
    name: "expand feeding tanh and a mean",
    inputs: [spec([3, 1])],
    impl: (a) => O.mean(O.tanh(O.expand(a, [3, 5])), 1),
  },
  { name: "narrow of a product", inputs: [spec([2, 6])], impl: (a) => O.narrow(O.mul(a, a), 1, 2, 3) },
  {
    name: "cat of two activations",
    inputs: [spec([2, 3]), spec([2, 2])],
    impl: (a, b) => O.cat([O.relu(a), O.sigmoid(b)], 1),
  },
  {
    name: "reshape of a permute (copied first)",
    inputs: [spec([2, 3, 4])],
    impl: (a) => O.reshape(O.permute(O.exp(a), [1, 0, 2]), [6, 4]),
  },
  {
    name: "gather of log_softmax",
    inputs: [spec([3, 4]), ispec([3, 1], [0, 3, 2])],
    impl: (a, i) => O.gather(O.logSoftmax(a, 1), 1, i),
  },
  {
    name: "max over a dim feeding an exp",
    inputs: [spec([3, 4])],
    impl: (a) => O.exp(O.maxDim(O.mul(a, 2), 1).values),
  },
  {
    name: "softmax of a matmul with a transposed weight",
    inputs: [spec([5, 3]), spec([4, 3])],
    impl: (a, w) => O.softmax(O.matmul(a, O.transpose(w, 0, 1)), 1),
  },
  {
    // The tutorial's `square`, whose backward forgets the factor 2: the GPU replays that backward too.
    name: "a custom function with a wrong backward gives the same wrong gradient",
    inputs: [spec([2, 3])],
    impl: (a) =>
      O.sum(
        applyFunction(
          {
            name: "Square",
            forward: (ctx: FunctionContext, x: Tensor) => {
              ctx.saveForBackward(x);
              return O.pow(x, 2);
            },
            backward: (_ctx: FunctionContext, g: Tensor) => g,
          },
          O.tanh(a),
        ),
      ),
  },
  {
    name: "a custom function whose backward uses saved tensors",
    inputs: [spec([4]), spec([4])],
    impl: (a, b) =>
      applyFunction(
        {
          name: "ExpMul",
          forward: (ctx: FunctionContext, x: Tensor, y: Tensor) => {
            const out = O.mul(O.exp(x), y);
            ctx.saveForBackward(out, y, x);
            return out;
          },
          backward: (ctx: FunctionContext, g: Tensor) => {
            const [out, y, x] = ctx.saved;
            return [O.mul(g, out), O.mul(g, O.exp(x)), O.sum(y)];
          },
        },
        a,
        b,
      ),
  },
];
describeGpuVsCpu("views and gathers inside fused kernels on WebGPU match the CPU", mix, device);
