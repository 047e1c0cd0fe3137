/**
 * Small tensors the node kinds' parity samples share (see NodeKind.samples): values exact in float32, with no
 * ties, zeros or kinks where a gradient check would straddle one.
 */
import type { NestedNumbers } from "./types.ts";

/** A (2, 3) input with both signs. */
export const X: NestedNumbers = [
  [0.5, -1.25, 2.0],
  [-0.75, 1.5, 0.25],
];
/** A second (2, 3) tensor, never equal to X. */
export const Y: NestedNumbers = [
  [1.5, 0.5, -2.0],
  [0.25, -1.0, 3.0],
];
/** A positive (2, 3) tensor, for log, sqrt and powers. */
export const POSITIVE: NestedNumbers = [
  [0.5, 1.25, 2.0],
  [0.75, 1.5, 0.25],
];
/** Probabilities in (0, 1), one row per sample. */
export const PROBS: NestedNumbers = [
  [0.2, 0.7, 0.1],
  [0.9, 0.05, 0.5],
];
/** 0/1 labels of X's shape. */
export const LABELS: NestedNumbers = [
  [0, 1, 0],
  [1, 0, 1],
];
/** Rows that sum to one (class probabilities). */
export const DISTRIBUTION: NestedNumbers = [
  [0.25, 0.5, 0.25],
  [0.125, 0.375, 0.5],
];
/** log_softmax of X along dim 1, rounded (log-probabilities). */
export const LOG_PROBS: NestedNumbers = [
  [-1.75, -3.5, -0.25],
  [-2.5, -0.25, -1.5],
];
/** One class index per row of X. */
export const CLASSES: NestedNumbers = [2, 0];
/** One weight per class of X. */
export const CLASS_WEIGHTS: NestedNumbers = [0.5, 2.0, 1.5];
