// conv1d, conv2d, unfold, fold, max_pool2d, avg_pool2d, adaptive_avg_pool2d and unflatten against PyTorch, argument by argument:
// forward values and the gradients of every tensor argument, in float64 and float32.
import { type DType, ops as O } from "../../src/runtime/index.ts";
import { withTracer } from "../../src/runtime/trace.ts";
import { type Arg, CaseList, describeParity, Inputs } from "../helpers/torch.ts";

const FLOATS: DType[] = ["float64", "float32"];
const I = new Inputs(1413);
const list = new CaseList();
const tuple = (...v: number[]): Arg => ({ tuple: v });
type Opts = Record<string, Arg>;

/** Tuples and strings as the runtime takes them (a tuple argument arrives as a list). */
function plain(v: Arg | undefined): never {
  if (v && typeof v === "object" && "tuple" in v) return v.tuple.map((x) => plain(x)) as never;
  return v as never;
}

const CONV2D: [string, number[], number[], boolean, Opts][] = [
  ["plain", [2, 3, 5, 5], [4, 3, 3, 3], true, {}],
  ["no bias", [1, 2, 4, 5], [3, 2, 2, 3], false, {}],
  ["stride 2, padding 1", [2, 2, 6, 5], [3, 2, 3, 3], true, { stride: 2, padding: 1 }],
  [
    "tuple stride, padding, dilation",
    [1, 2, 7, 6],
    [2, 2, 3, 2],
    true,
    { stride: tuple(2, 1), padding: tuple(1, 2), dilation: tuple(2, 1) },
  ],
  [
    "padding same, even kernel, dilation",
    [1, 2, 5, 6],
    [2, 2, 2, 4],
    true,
    { padding: "same", dilation: tuple(1, 2) },
  ],
  ["padding valid", [1, 1, 4, 4], [2, 1, 3, 3], true, { padding: "valid" }],
  ["groups 2", [2, 4, 4, 4], [6, 2, 3, 3], true, { groups: 2, padding: 1 }],
  ["depthwise", [1, 3, 5, 4], [3, 1, 3, 3], true, { groups: 3, stride: 2 }],
  ["unbatched", [2, 4, 4], [3, 2, 2, 2], true, {}],
  ["1x1 kernel", [2, 3, 3, 3], [2, 3, 1, 1], true, {}],
];
const CONV1D: [string, number[], number[], boolean, Opts][] = [
  ["plain", [2, 3, 7], [4, 3, 3], true, {}],
  ["stride, padding, dilation", [1, 2, 9], [2, 2, 3], true, { stride: 2, padding: 2, dilation: 2 }],
  ["padding same", [1, 2, 6], [3, 2, 4], false, { padding: "same" }],
  ["groups, unbatched", [4, 5], [2, 2, 2], true, { groups: 2 }],
];
for (const [fn, cases] of [
  ["conv2d", CONV2D],
  ["conv1d", CONV1D],
] as const)
  for (const dt of FLOATS)
    for (const [name, xs, ws, bias, kw] of cases)
      list.add(
        `${fn} ${dt} ${name}`,
        `F.${fn}`,
        [I.t(xs, dt), I.t(ws, dt), bias ? I.t([ws[0]], dt) : null],
        (x, w, b) =>
          (fn === "conv2d" ? O.conv2d : O.conv1d)(x, w, b ?? null, {
            stride: plain(kw.stride),
            padding: plain(kw.padding),
            dilation: plain(kw.dilation),
            groups: plain(kw.groups),
          }),
        { kwargs: kw },
      );

// im2col and col2im on their own (convolution's unfold and its gradient), in torch's F.unfold / F.fold layout.
const UNFOLD: [string, number[], Arg, Opts][] = [
  ["kernel 3, padding 1", [2, 3, 5, 5], 3, { padding: 1 }],
  [
    "tuple kernel, dilation, padding, stride",
    [1, 2, 7, 6],
    tuple(2, 3),
    { dilation: tuple(2, 1), padding: tuple(1, 2), stride: tuple(2, 1) },
  ],
  ["unbatched, stride 2", [2, 4, 5], 2, { stride: 2 }],
];
const FOLD: [string, number[], Arg, Arg, Opts][] = [
  ["overlapping windows, padding 1", [2, 18, 25], tuple(5, 5), 3, { padding: 1 }],
  [
    "tuple kernel, dilation, padding, stride",
    [1, 12, 32],
    tuple(7, 6),
    tuple(2, 3),
    { dilation: tuple(2, 1), padding: tuple(1, 2), stride: tuple(2, 1) },
  ],
  ["unbatched, stride 2 (no overlap)", [8, 4], tuple(4, 4), 2, { stride: 2 }],
];
const windowOptions = (kw: Opts) => ({
  dilation: plain(kw.dilation),
  padding: plain(kw.padding),
  stride: plain(kw.stride),
});
for (const dt of FLOATS) {
  for (const [name, xs, k, kw] of UNFOLD)
    list.add(
      `unfold ${dt} ${name}`,
      "F.unfold",
      [I.t(xs, dt), k],
      (x) => O.unfold(x, plain(k), windowOptions(kw)),
      {
        kwargs: kw,
      },
    );
  for (const [name, xs, size, k, kw] of FOLD)
    list.add(
      `fold ${dt} ${name}`,
      "F.fold",
      [I.t(xs, dt), size, k],
      (x) => O.fold(x, plain(size), plain(k), windowOptions(kw)),
      { kwargs: kw },
    );
}

const MAXPOOL: [string, number[], Arg, Opts][] = [
  ["kernel 2", [2, 2, 4, 4], 2, {}],
  ["stride 1, padding 1", [1, 2, 5, 4], 3, { stride: 1, padding: 1 }],
  ["tuple kernel, dilation", [1, 1, 7, 6], tuple(2, 3), { stride: tuple(2, 1), dilation: tuple(2, 1) }],
  ["ceil_mode", [1, 2, 5, 5], 2, { ceil_mode: true }],
  ["ceil_mode, padding", [1, 1, 6, 7], 3, { stride: 2, padding: 1, ceil_mode: true }],
  ["unbatched", [2, 5, 5], 2, { stride: 1 }],
];
for (const dt of FLOATS)
  for (const [name, xs, k, kw] of MAXPOOL)
    list.add(
      `max_pool2d ${dt} ${name}, with indices`,
      "F.max_pool2d",
      [I.t(xs, dt), k],
      (x) => {
        const r = O.maxPool2d(x, plain(k), {
          stride: plain(kw.stride),
          padding: plain(kw.padding),
          dilation: plain(kw.dilation),
          ceilMode: plain(kw.ceil_mode),
        });
        return [r.values, r.indices];
      },
      { kwargs: { ...kw, return_indices: true } },
    );
// Ties (torch keeps the first maximum of a window) and NaN (the first NaN wins) decide where the gradient goes.
const TIES = [1, 3, 3, 0, 3, 1, 2, 3, 0, 0, 1, 1, 3, 2, 3, 3];
list.add(
  "max_pool2d ties and a padded window",
  "F.max_pool2d",
  [I.t([1, 1, 4, 4], "float64", { values: TIES }), 3],
  (x) => {
    const r = O.maxPool2d(x, 3, { stride: 1, padding: 1 });
    return [r.values, r.indices];
  },
  { kwargs: { stride: 1, padding: 1, return_indices: true } },
);
list.add(
  "max_pool2d NaN in windows",
  "F.max_pool2d",
  [I.t([1, 1, 3, 3], "float64", { values: [1, 3, 3, 3, Number.NaN, 2, Number.NaN, 0, 1] }), 2],
  (x) => {
    const r = O.maxPool2d(x, 2, { stride: 1 });
    return [r.values, r.indices];
  },
  { kwargs: { stride: 1, return_indices: true } },
);
// Traced (as the WebGPU backend runs it), max pooling takes its data-independent path: the same answers.
list.add(
  "max_pool2d NaN in windows, traced",
  "F.max_pool2d",
  [I.t([1, 1, 3, 3], "float64", { values: [1, 3, 3, 3, Number.NaN, 2, Number.NaN, 0, 1] }), 2],
  (x) =>
    withTracer(
      () => {},
      () => {
        const r = O.maxPool2d(x, 2, { stride: 1 });
        return [r.values, r.indices];
      },
    ),
  { kwargs: { stride: 1, return_indices: true } },
);
list.add(
  "max_pool2d all -inf, padded",
  "F.max_pool2d",
  [I.t([1, 1, 3, 3], "float64", { values: Array(9).fill(Number.NEGATIVE_INFINITY) }), 2],
  (x) => {
    const r = O.maxPool2d(x, 2, { stride: 1, padding: 1 });
    return [r.values, r.indices];
  },
  { kwargs: { stride: 1, padding: 1, return_indices: true } },
);

const AVGPOOL: [string, number[], Arg, Opts][] = [
  ["kernel 2", [2, 2, 4, 4], 2, {}],
  ["padding, count_include_pad", [1, 2, 5, 4], 3, { stride: 1, padding: 1 }],
  ["padding, count_include_pad False", [1, 2, 5, 4], 3, { stride: 2, padding: 1, count_include_pad: false }],
  ["ceil_mode", [1, 1, 5, 6], tuple(2, 3), { stride: 2, padding: 1, ceil_mode: true }],
  [
    "ceil_mode, no pad counting",
    [1, 1, 5, 6],
    3,
    { stride: 2, padding: 1, ceil_mode: true, count_include_pad: false },
  ],
  ["divisor_override", [1, 2, 4, 4], 2, { stride: 1, divisor_override: 3 }],
  ["unbatched", [2, 4, 5], 2, { stride: tuple(1, 2) }],
];
for (const dt of FLOATS)
  for (const [name, xs, k, kw] of AVGPOOL)
    list.add(
      `avg_pool2d ${dt} ${name}`,
      "F.avg_pool2d",
      [I.t(xs, dt), k],
      (x) =>
        O.avgPool2d(x, plain(k), {
          stride: plain(kw.stride),
          padding: plain(kw.padding),
          ceilMode: plain(kw.ceil_mode),
          countIncludePad: plain(kw.count_include_pad),
          divisorOverride: plain(kw.divisor_override),
        }),
      { kwargs: kw },
    );

const ADAPTIVE: [string, number[], Arg][] = [
  ["to 2x2", [2, 2, 4, 4], 2],
  ["uneven windows", [1, 2, 5, 7], tuple(3, 4)],
  ["None keeps a size", [1, 1, 5, 6], { tuple: [null, 2] }],
  ["to 1x1, unbatched", [3, 4, 5], 1],
  ["upsampling", [1, 1, 2, 3], tuple(3, 5)],
];
for (const dt of FLOATS)
  for (const [name, xs, size] of ADAPTIVE)
    list.add(`adaptive_avg_pool2d ${dt} ${name}`, "F.adaptive_avg_pool2d", [I.t(xs, dt), size], (x) =>
      O.adaptiveAvgPool2d(x, plain(size)),
    );

list.add("unflatten", "torch.unflatten", [I.t([2, 6, 3], "float64"), 1, tuple(2, 3)], (x) =>
  O.unflatten(x, 1, [2, 3]),
);
list.add("unflatten -1, last dim", "torch.unflatten", [I.t([2, 12], "float32"), -1, tuple(2, -1, 3)], (x) =>
  O.unflatten(x, -1, [2, -1, 3]),
);

// Refusals: gradwire's message says what torch's says.
const F32 = "float32";
list.add(
  "conv2d channel mismatch",
  "F.conv2d",
  [I.t([1, 2, 5, 5], F32), I.t([4, 3, 3, 3], F32)],
  (x, w) => O.conv2d(x, w),
  {
    error: /expected input\[1, 2, 5, 5\] to have 3 channels, but got 2 channels/,
  },
);
list.add(
  "conv2d kernel larger than padded input",
  "F.conv2d",
  [I.t([1, 1, 2, 2], F32), I.t([1, 1, 3, 3], F32)],
  (x, w) => O.conv2d(x, w),
  {
    error: /Kernel size can't be greater than actual input size/,
  },
);
list.add(
  "conv2d groups not dividing out_channels",
  "F.conv2d",
  [I.t([1, 4, 3, 3], F32), I.t([3, 2, 1, 1], F32)],
  (x, w) => O.conv2d(x, w, null, { groups: 2 }),
  {
    kwargs: { groups: 2 },
    error: /divisible by groups/,
  },
);
list.add(
  "conv2d same with stride",
  "F.conv2d",
  [I.t([1, 1, 4, 4], F32), I.t([1, 1, 3, 3], F32)],
  (x, w) => O.conv2d(x, w, null, { padding: "same", stride: 2 }),
  {
    kwargs: { padding: "same", stride: 2 },
    error: /not supported for strided convolutions/,
  },
);
list.add(
  "max_pool2d pad over half the kernel",
  "F.max_pool2d",
  [I.t([1, 1, 4, 4], F32), 2],
  (x) => O.maxPool2d(x, 2, { padding: 2 }).values,
  {
    kwargs: { padding: 2 },
    error: /pad should be at most half of kernel size/,
  },
);
list.add(
  "avg_pool2d output too small",
  "F.avg_pool2d",
  [I.t([1, 1, 2, 2], F32), 3],
  (x) => O.avgPool2d(x, 3),
  {
    error: /Output size is too small/,
  },
);
list.add(
  "unflatten sizes not multiplying up",
  "torch.unflatten",
  [I.t([2, 6], F32), 1, tuple(4, 2)],
  (x) => O.unflatten(x, 1, [4, 2]),
  {
    error: /don't multiply up to the size of dim 1 \(6\)/,
  },
);

describeParity("convolution and pooling match PyTorch", list);
