/**
 * Every way the WebGPU backend can fail, as one error class with a kind, so the scheduler can tell a fault it
 * should fall back to the CPU for from a bug, and show a message that names the graph node involved.
 */

export type GpuFaultKind =
  /** No WebGPU in this environment, or no adapter. */
  | "unavailable"
  /** The adapter refused to give a device. */
  | "adapter"
  /** The device was lost (destroyed, driver reset, GPU process crash). */
  | "device-lost"
  /** A generated kernel failed WGSL validation or pipeline creation. */
  | "shader"
  /** A tensor or the whole program does not fit the device's limits or memory. */
  | "limits"
  /** The graph uses something the backend does not run (float64, an op with no kernel). */
  | "unsupported";

export class GpuError extends Error {
  override name = "GpuError";
  constructor(
    readonly kind: GpuFaultKind,
    message: string,
    /** The graph node (its label) the fault is about, when there is one. */
    readonly node: string | null = null,
  ) {
    super(message);
  }
}

/** "node 'loss'" or "the graph", for messages. */
export function nodeRef(node: string | null): string {
  return node === null ? "the graph" : `node '${node}'`;
}

export function isGpuError(e: unknown): e is GpuError {
  return e instanceof GpuError;
}
