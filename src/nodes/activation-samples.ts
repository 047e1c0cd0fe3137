/**
 * Parity samples of the activation kinds declared before NodeKind.samples existed. They belong in each
 * declaration in activations.ts (which another change is rewriting): move them there and delete this file.
 */
import { X } from "./sample-values.ts";
import type { KindSample } from "./types.ts";

export const ACTIVATION_SAMPLES: Record<string, KindSample[]> = {
  relu: [{ inputs: { input: X } }],
  sigmoid: [{ inputs: { input: X } }],
  tanh: [{ inputs: { input: [0.5, -1.25, 2.0, -0.05, 9.5] } }],
  leaky_relu: [
    { inputs: { input: X } },
    { name: "slope 0.2", inputs: { input: X }, params: { negative_slope: 0.2 } },
  ],
  gelu: [{ inputs: { input: X } }, { name: "tanh", inputs: { input: X }, params: { approximate: "tanh" } }],
  softplus: [
    { inputs: { input: X } },
    { name: "beta 2, threshold 1.5", inputs: { input: X }, params: { beta: 2, threshold: 1.5 } },
  ],
  logsigmoid: [{ inputs: { input: [0.5, -1.25, 2.0, -30.0, 25.0] } }],
  softmax: [
    { inputs: { input: X }, params: { dim: 1 } },
    { name: "dim 0", inputs: { input: X }, params: { dim: 0 } },
  ],
  log_softmax: [
    { inputs: { input: X }, params: { dim: 1 } },
    { name: "dim 0", inputs: { input: X }, params: { dim: 0 } },
  ],
};
