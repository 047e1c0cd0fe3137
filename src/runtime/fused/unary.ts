/**
 * Monomorphic forward and gradient loops for common unary ops, each computing exactly the declared scalar
 * function and `g * df(x, y)` expression (see ops/elementwise.ts), so they agree bit for bit with the generic
 * path while skipping its per-element closure calls.
 */
import { allocate, type DType, finishStorage, type Storage } from "../dtype.ts";
import { sigmoid } from "../ops/special.ts";
import { Tensor } from "../tensor.ts";
import { tanhF32 } from "./tanh.ts";

/** An op's attributes, as ops/elementwise.ts declares them (not imported from there: it imports this file). */
type Attrs = Record<string, number | string | null | undefined>;

export type UnaryLoop = (X: Storage, out: Storage, n: number) => void;
export type UnaryGradLoop = (G: Storage, X: Storage, Y: Storage, out: Storage, n: number) => void;

interface Loops {
  fwd: UnaryLoop;
  grad: UnaryGradLoop;
}

const LOOPS: Record<string, Loops> = {
  neg: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = -X[i];
    },
    grad: (G, _X, _Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = G[i] * -1;
    },
  },
  exp: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = Math.exp(X[i]);
    },
    grad: (G, _X, Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = G[i] * Y[i];
    },
  },
  log: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = Math.log(X[i]);
    },
    grad: (G, X, _Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = G[i] * (1 / X[i]);
    },
  },
  sqrt: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(X[i]);
    },
    grad: (G, _X, Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = G[i] * (1 / (2 * Y[i]));
    },
  },
  sigmoid: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = sigmoid(X[i]);
    },
    grad: (G, _X, Y, out, n) => {
      for (let i = 0; i < n; i++) {
        const y = Y[i];
        out[i] = G[i] * (y * (1 - y));
      }
    },
  },
  tanh: {
    fwd: (X, out, n) => {
      // Float32 storage (float32 and float16) rounds away tanhF32's last bits; float64 keeps Math.tanh.
      if (out instanceof Float32Array) for (let i = 0; i < n; i++) out[i] = tanhF32(X[i]);
      else for (let i = 0; i < n; i++) out[i] = Math.tanh(X[i]);
    },
    // torch's kernel computes 1 - y * y with a fused multiply-add (exact, then rounded once) and multiplies
    // that float32 by the gradient; checked against torch's tanh_backward bit for bit.
    grad: (G, _X, Y, out, n) => {
      if (out instanceof Float32Array)
        for (let i = 0; i < n; i++) {
          const y = Y[i];
          out[i] = G[i] * Math.fround(1 - y * y);
        }
      else
        for (let i = 0; i < n; i++) {
          const y = Y[i];
          out[i] = G[i] * (1 - y * y);
        }
    },
  },
  relu: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) out[i] = Math.max(X[i], 0);
    },
    // torch's threshold_backward: x <= 0 gives 0 whatever the gradient (an infinite one included), else g.
    grad: (G, X, _Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = X[i] <= 0 ? 0 : G[i];
    },
  },
  // pow_scalar with exponent 2: fn x * x, df 2 * x ** 1 (and x ** 1 is x exactly).
  square: {
    fwd: (X, out, n) => {
      for (let i = 0; i < n; i++) {
        const x = X[i];
        out[i] = x * x;
      }
    },
    grad: (G, X, _Y, out, n) => {
      for (let i = 0; i < n; i++) out[i] = G[i] * (2 * X[i]);
    },
  },
};

/** The loops for a declared unary op with these attributes, or undefined where only the generic path applies. */
export function unaryLoops(name: string, attrs: Attrs): Loops | undefined {
  if (name === "pow_scalar") return attrs.exponent === 2 ? LOOPS.square : undefined;
  return LOOPS[name];
}

/** Run a forward loop into a fresh tensor of `dtype` shaped like x (halves rounded after, as mapUnary does). */
export function runUnary(loop: UnaryLoop, x: Tensor, dtype: DType): Tensor {
  const src = x.data;
  const out = allocate(dtype, src.length);
  loop(src, out, src.length);
  return new Tensor(finishStorage(dtype, out), x.shape, dtype);
}

/** g * df(x, y) into a tensor of g's dtype, or null when the operands are not all the output's size. */
export function runUnaryGrad(loop: UnaryGradLoop, g: Tensor, x: Tensor, y: Tensor): Tensor | null {
  const n = y.data.length;
  if (g.data.length !== n || x.data.length !== n) return null;
  const out = allocate(g.dtype, n);
  loop(g.data, x.data, y.data, out, n);
  return new Tensor(finishStorage(g.dtype, out), y.shape, g.dtype);
}
